"""A report on stdout: ``-o`` of ``apply`` and ``report`` prints the results table, or the
report in any format ``report.formats`` can write, so stdout offers what the files do
(one list, one printer)."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.table import Table

from batchrun.cli.console import announce, stdout_console
from batchrun.report import FORMATS, Report
from batchrun.report.formats import OUTPUTS_COLUMN, WRITERS, short_table, short_text
from batchrun.report.labels import output_label
from batchrun.states import FAILED, PointState

F = TypeVar("F", bound=Callable[..., Any])

OUTPUTS = ("table", *FORMATS)
"""What ``apply -o`` and ``report -o`` print: the results table, or the report in a format."""


def output_option(command: F) -> F:
    """``-o/--output`` over :data:`OUTPUTS`, passed to the command as ``output``."""
    return click.option(
        "-o", "--output", type=click.Choice(OUTPUTS), default="table", show_default=True,
        help="[Output] The results on stdout: a table, or the report as JSON, CSV, Markdown or HTML.",
    )(command)


RICH_ROWS = 1000
"""Up to this many rows a table is rich's (colours, wrapping); beyond, plain aligned columns."""

SCREENFUL = 40
"""Rows or entries a command prints before it points to the rest (the report's files, --full)."""


def echo_results(report: Report, output: str, written: Sequence[Path]) -> None:
    """The results table a screenful long, then where the other rows are (the report's
    files just ``written``); ``-o`` of a format prints the whole report, as its file holds it."""
    if output != "table":
        WRITERS[output](report, sys.stdout)
        sys.stdout.flush()
        return
    stdout_console().print(results_table(report, limit=SCREENFUL))
    more = len(report.jobs) - SCREENFUL
    if more > 0:
        announce(f"{more} more rows " + (f"in {written[0].parent}" if written else "(-o csv prints every row)"))


def results_table(report: Report, *, limit: int) -> Table:
    """The results as a rich table for a terminal (local times), at most ``limit`` rows."""
    columns, rows = short_table(report)
    grid = Table(box=None, header_style="bold", pad_edge=False)
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row, job in zip(itertools.islice(rows, limit), report.jobs[:limit], strict=True):
        style = "red" if job.state in FAILED else "dim" if job.state == PointState.NOT_CREATED else None
        cells = (
            "\n".join(output_label(data) for data in row.get(column) or ())
            if column == OUTPUTS_COLUMN
            else _terminal_cell(row.get(column))
            for column in columns
        )
        grid.add_row(*cells, style=style)
    return grid


def _terminal_cell(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    return short_text(value)
