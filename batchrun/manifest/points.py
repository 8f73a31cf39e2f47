"""Explicit points from a file: CSV with a header row, or JSON Lines (one object a line).

CSV cells are read like YAML scalars (``0.1`` is a number, ``true`` a boolean, ``null``
nothing, anything else a string), so a CSV point means what the same value would mean
in the manifest. Every problem names the file, line and column.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from batchrun.identity import canonical_json
from batchrun.manifest.errors import Issue, Location, ManifestError
from batchrun.manifest.yamlread import MAX_DEPTH, scalar
from batchrun.nesting import deeper_than

SUFFIXES = (".csv", ".jsonl", ".ndjson")
MAX_BYTES = 128 * 1024 * 1024
"""A million points of a hundred bytes each, with room to spare; more is not a points file."""
_MAX_ISSUES = 20
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

PointRow = tuple[dict[str, Any], Location]


class _Rows:
    """Collects rows and issues, stopping once there are too many of either."""

    def __init__(self, source: str, limit: int) -> None:
        self.source = source
        self.limit = limit
        self.rows: list[PointRow] = []
        self.issues: list[Issue] = []

    def fail(self, line: int, column: int, field: str, message: str) -> None:
        self.issues.append(Issue(Location(self.source, line, column), field, message))

    def add(self, point: dict[str, Any], line: int) -> bool:
        """Keep a point; False once reading should stop."""
        for name, value in point.items():
            if not _NAME.match(name):
                self.fail(line, 1, name, "not a valid parameter name; use letters, digits and '_'")
            if deeper_than(value, MAX_DEPTH):
                self.fail(line, 1, name, f"nested deeper than {MAX_DEPTH} levels; flatten the value")
                continue
            try:
                canonical_json(value)
            except ValueError as error:
                self.fail(line, 1, name, str(error))
        self.rows.append((point, Location(self.source, line, 1)))
        if len(self.rows) > self.limit:
            self.fail(line, 1, "", f"more points than max_jobs leaves room for ({self.limit:,} after the grid's); "
                      "raise max_jobs in the manifest")
        return len(self.rows) <= self.limit and len(self.issues) < _MAX_ISSUES


def _csv(text: str, rows: _Rows) -> None:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        _csv_records(reader, rows)
    except csv.Error as error:
        rows.fail(reader.line_num, 1, "", f"not valid CSV: {error}")


def _csv_records(reader: Any, rows: _Rows) -> None:  # a csv reader (its type is private)
    header = next(reader, None)
    if not header:
        rows.fail(1, 1, "", "empty file; the first row must name the parameters")
        return
    for position, name in enumerate(header):
        if header.index(name) != position:
            rows.fail(1, 1, name, "column named twice; name each parameter once")
    for record in reader:
        if not record:
            continue
        line = reader.line_num
        if len(record) != len(header):
            rows.fail(line, 1, "", f"has {len(record)} value(s), but the header names {len(header)} columns")
            continue
        point = {}
        for name, cell in zip(header, record, strict=True):
            if cell == "":
                rows.fail(line, 1, name, "empty value; write null for no value")
            point[name] = scalar(cell)
        if not rows.add(point, line):
            return


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON; use a finite number or a string")


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, line


def _jsonl(text: str, rows: _Rows) -> None:
    for number, line in _lines(text):
        try:
            point = json.loads(line, parse_constant=_reject_constant)
        except json.JSONDecodeError as error:
            rows.fail(number, error.colno, "", f"invalid JSON: {error.msg}; write one JSON object per line")
            continue
        except RecursionError:
            rows.fail(number, 1, "", f"nested deeper than {MAX_DEPTH} levels; flatten the values")
            continue
        except ValueError as error:
            rows.fail(number, 1, "", str(error))
            continue
        if not isinstance(point, dict):
            rows.fail(number, 1, "", "each line must be a JSON object, e.g. {\"lr\": 0.1}")
            continue
        if not rows.add(point, number):
            return


def read_points(path: Path, source: str, limit: int) -> list[PointRow]:
    """The points in ``path`` with the line each came from; raises ManifestError or OSError.

    ``limit`` is how many points may still be added (max_jobs minus the grid's points).
    """
    rows = _Rows(source, limit)
    if path.stat().st_size > MAX_BYTES:
        message = f"is larger than {MAX_BYTES:,} bytes; split the points into several batches"
        raise ManifestError([Issue(Location(source), "", message)])
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ManifestError([Issue(Location(source, line, 1), "", "not UTF-8 text; save it as UTF-8")]) from None
    (_csv if path.suffix.lower() == ".csv" else _jsonl)(text, rows)
    if rows.issues:
        raise ManifestError(rows.issues)
    if not rows.rows:
        raise ManifestError([Issue(Location(source, 1, 1), "", "no points; add rows or remove points_file")])
    return rows.rows
