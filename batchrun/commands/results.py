"""``-o`` of ``apply`` and ``report``: the results table, or the report in any format
``report.formats`` can write, so stdout offers what the files do (one list, one printer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from batchrun.commands.console import stdout_console
from batchrun.report import OUTPUTS, RENDERERS, Report, results_table

F = TypeVar("F", bound=Callable[..., Any])


def output_option(command: F) -> F:
    """``-o/--output`` over :data:`batchrun.report.OUTPUTS`, passed to the command as ``output``."""
    return click.option(
        "-o", "--output", type=click.Choice(OUTPUTS), default="table", show_default=True,
        help="[Output] The results on stdout: a table, or the report as JSON, CSV, Markdown or HTML.",
    )(command)


def echo_results(report: Report, output: str, *, limit: int | None = None) -> None:
    """Print the results table (at most ``limit`` rows), or the whole report as ``output``."""
    if output == "table":
        stdout_console().print(results_table(report, limit=limit))
    else:
        click.echo(RENDERERS[output](report), nl=False)
