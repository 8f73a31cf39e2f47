"""manifests/tables.yaml on the embedded local JMA, as a user runs it: CSV files in input
slots, a JSON summary and a PNG chart out of every job, listed in the report and fetched."""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from pathlib import Path

from tests.support import MANIFESTS, read_report, run_batchrun

RUN_STATE = shutil.ignore_patterns(".batchrun", "reports", "__pycache__")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(content: bytes) -> tuple[int, int]:
    """Width and height of a PNG, after checking its signature, its IHDR chunk (first, 13
    bytes, right CRC: 8-bit RGB) and that its image data inflates to every scanline."""
    assert content[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", content[8:16])
    header = content[16:16 + length]
    assert kind == b"IHDR" and length == 13
    assert struct.unpack(">I", content[29:33])[0] == zlib.crc32(kind + header)
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, colour, interlace) == (8, 2, 0)
    assert content.endswith(b"IEND\xaeB`\x82")
    position, data = 33, b""
    while position < len(content):
        size, name = struct.unpack(">I4s", content[position:position + 8])
        if name == b"IDAT":
            data += content[position + 8:position + 8 + size]
        position += 12 + size
    assert len(zlib.decompress(data)) == height * (1 + 3 * width)
    return width, height


def test_the_tables_example_writes_a_summary_and_a_chart_per_job_and_fetch_downloads_them(tmp_path: Path) -> None:
    shutil.copytree(MANIFESTS, tmp_path / "manifests", ignore=RUN_STATE)
    applied = run_batchrun("apply", "manifests/tables.yaml", "--yes", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert "6 create" in applied.stderr and "uploaded 3 input files" in applied.stderr

    jobs = read_report(tmp_path / "manifests" / "tables.yaml", "tables")["jobs"]
    assert [job["name"] for job in jobs] == [f"{dataset}-{statistic}" for dataset in ("iris", "wine", "penguins")
                                              for statistic in ("mean", "max")]
    assert {job["state"] for job in jobs} == {"Completed"}
    assert all(job["parameters"] == {"statistic": job["name"].split("-")[1]} for job in jobs)  # dataset: a variable
    for job in jobs:
        media = sorted((output["slot"], output["media_type"]) for output in job["outputs"])
        assert media == [("chart", "image/png"), ("summary", "application/json")], job["name"]

    fetched = run_batchrun("fetch", "manifests/tables.yaml", "--dest", "out", cwd=tmp_path)
    assert fetched.returncode == 0, fetched.stderr
    for job in jobs:
        statistic = job["name"].split("-")[1]
        summary = json.loads((tmp_path / "out" / job["name"] / "summary" / f"summary-{statistic}.json").read_text())
        assert summary["rows"] == job["result"]["rows"] and len(summary["columns"]) == job["result"]["columns"]
        assert all(statistic in column for column in summary["columns"].values())
        chart = (tmp_path / "out" / job["name"] / "chart" / f"{statistic}.png").read_bytes()
        assert png_size(chart) == (320, 200)

    again = run_batchrun("apply", "manifests/tables.yaml", "--yes", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "6 unchanged" in again.stderr and "uploaded" not in again.stderr
