"""Plain aligned columns for tables too long for rich: a hundred thousand rows in a second.

rich measures and wraps every cell, about 2 ms a row; these tables pad cells to widths
taken from the first rows and write each row as it comes, so they also stream. A longer
cell further down shifts only its own row.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import IO

SAMPLE_ROWS = 1000
"""Rows (the header included) whose widths set the columns."""


def write_aligned(rows: Iterable[list[str]], out: IO[str]) -> int:
    """Write ``rows`` (the first is the header) as aligned columns, the last one unpadded; the rows written."""
    remaining = iter(rows)
    sample = list(itertools.islice(remaining, SAMPLE_ROWS))
    if not sample:
        return 0
    widths = [max(len(row[column]) for row in sample) for column in range(len(sample[0]) - 1)]
    layout = "".join(f"{{:<{width}}}  " for width in widths) + "{}"  # a cell pads as str.ljust pads it
    count = 0
    for row in itertools.chain(sample, remaining):
        out.write(layout.format(*row).rstrip() + "\n")
        count += 1
    return count
