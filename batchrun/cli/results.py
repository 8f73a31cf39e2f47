"""A report on stdout: ``-o`` of ``apply`` and ``report`` prints the results table, or the
report in any format ``report.formats`` can write, so stdout offers what the files do
(one list, one printer)."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import click
from rich.table import Table

from batchrun.cli.aligned import write_aligned
from batchrun.cli.console import stdout_console
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
"""Up to this many rows the table is rich's (colours, wrapping); beyond, plain aligned columns."""


def echo_results(report: Report, output: str, *, limit: int | None = None) -> None:
    """Print the results table (at most ``limit`` rows), or the whole report as ``output``."""
    if output != "table":
        WRITERS[output](report, sys.stdout)
        sys.stdout.flush()
    elif min(len(report.jobs), limit or len(report.jobs)) <= RICH_ROWS:
        stdout_console().print(results_table(report, limit=limit))
    else:
        columns, rows = short_table(report)
        lines = ([_plain_cell(column, row.get(column)) for column in columns] for row in itertools.islice(rows, limit))
        write_aligned(itertools.chain([list(columns)], lines), sys.stdout)


def results_table(report: Report, *, limit: int | None = None) -> Table:
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


def _plain_cell(column: str, value: Any) -> str:
    if column == OUTPUTS_COLUMN:
        return " ".join(output_label(data) for data in value or ())
    return _terminal_cell(value)


def _terminal_cell(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    return short_text(value)
