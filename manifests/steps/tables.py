"""Steps for manifests/tables.yaml: summarize a CSV table into a JSON summary and a PNG chart.

The chart is drawn with the standard library only (``zlib`` and ``struct``): one bar per
numeric column, its height the chosen statistic of the column scaled to the largest one.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
import struct
import zlib
from typing import Annotated

from batchrun import InputSlot, OutputSlot, SlotOptions, version

WIDTH, HEIGHT, MARGIN = 320, 200, 16
BACKGROUND = (255, 255, 255)
AXIS = (64, 64, 64)
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]
STATISTICS = {"mean": statistics.fmean, "median": statistics.median, "max": max}


def _numeric_columns(text: str) -> dict[str, list[float]]:
    """Every column of the CSV ``text`` whose cells all parse as numbers, in header order."""
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise ValueError("the table has a header but no rows")
    columns: dict[str, list[float]] = {}
    for name in rows[0]:
        try:
            columns[name] = [float(row[name]) for row in rows]
        except (TypeError, ValueError):
            continue  # a label column such as species
    if not columns:
        raise ValueError("the table has no numeric column")
    return columns


def _png(pixels: list[bytearray], width: int, height: int) -> bytes:
    """An 8-bit RGB PNG of ``pixels`` (``height`` rows of ``3 * width`` bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(row) for row in pixels)  # filter type 0 on every scanline
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _bar_chart(values: list[float], width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """A bar chart of ``values`` (negative ones drawn as zero) as PNG bytes."""
    pixels = [bytearray(BACKGROUND * width) for _ in range(height)]

    def fill(left: int, top: int, right: int, bottom: int, colour: tuple[int, int, int]) -> None:
        for y in range(max(top, 0), min(bottom, height)):
            pixels[y][3 * left:3 * right] = bytes(colour) * (right - left)

    top, bottom = MARGIN, height - MARGIN
    fill(MARGIN, bottom, width - MARGIN, bottom + 1, AXIS)  # the x axis
    fill(MARGIN, top, MARGIN + 1, bottom, AXIS)  # the y axis
    largest = max(max(values), 0.0) or 1.0
    slot = (width - 2 * MARGIN - 2) // max(len(values), 1)
    for index, value in enumerate(values):
        left = MARGIN + 2 + index * slot + slot // 8
        right = MARGIN + 2 + (index + 1) * slot - slot // 8
        bar = round(max(value, 0.0) / largest * (bottom - top))
        fill(left, bottom - bar, right, bottom, PALETTE[index % len(PALETTE)])
    return _png(pixels, width, height)


@version("1.0.0")
def summarize(
    table: Annotated[InputSlot, SlotOptions("text/csv", description="a CSV table with a header row")],
    summary: Annotated[OutputSlot, SlotOptions("application/json", tags=("kind=summary",))],
    chart: Annotated[OutputSlot, SlotOptions("image/png", tags=("kind=chart",))],
    statistic: str = "mean",
) -> dict[str, int]:
    """Summarize the numeric columns of a CSV table and draw a bar chart of them.

    :param table: the CSV table
    :param summary: per column: count, min, max, mean and the chosen statistic (JSON)
    :param chart: a bar chart of the chosen statistic per column (PNG)
    :param statistic: "mean", "median" or "max"
    :returns: the number of rows and of numeric columns (the figures are in the outputs)
    """
    if statistic not in STATISTICS:
        raise ValueError(f"unknown statistic {statistic!r}; use one of {', '.join(STATISTICS)}")
    columns = _numeric_columns(table.slots[0].read_data())
    chosen = {name: round(STATISTICS[statistic](cells), 6) for name, cells in columns.items()}
    summary.slots[0].meta.filename = f"summary-{statistic}.json"
    summary.slots[0].write_data(json.dumps({
        "rows": len(next(iter(columns.values()))),
        "statistic": statistic,
        "columns": {
            name: {"count": len(cells), "min": min(cells), "max": max(cells),
                   "mean": round(statistics.fmean(cells), 6), statistic: chosen[name]}
            for name, cells in columns.items()
        },
    }, indent=2))
    chart.slots[0].meta.filename = f"{statistic}.png"
    with chart.slots[0] as slot:
        slot.file.write(_bar_chart(list(chosen.values())))
    return {"rows": len(next(iter(columns.values()))), "columns": len(columns)}
