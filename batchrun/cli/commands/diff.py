"""``batchrun diff``: two runs (or two revisions of one run) compared point by point."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import click
from rich.table import Table

from batchrun.cli.aligned import write_aligned
from batchrun.cli.connection import connected, connection_options
from batchrun.cli.console import stdout_console
from batchrun.cli.options import manifest_options
from batchrun.cli.panels import PanelCommand
from batchrun.cli.results import RICH_ROWS
from batchrun.diff import ABSENT, DIFF_FORMAT_VERSION, Diff, FieldDifference, PointDiff, Tolerance, Verdict, compare
from batchrun.errors import BatchrunError
from batchrun.manifest import Manifest
from batchrun.plan import DEFAULT_RUN
from batchrun.report import ReportJob
from batchrun.report.formats import cell
from batchrun.sides import Side, parse_revision, read_sides
from batchrun.states import JobState

CSV_COLUMNS = ("name", "key", "verdict", "field", "a", "b", "reason")
TABLE_COLUMNS = ["name", "verdict", "field / reason", "A", "B"]
ABSENT_TEXT = "(absent)"


@click.command("diff", cls=PanelCommand)
@manifest_options
@connection_options
@click.option("--run", "runs", multiple=True, metavar="LABEL",
              help="[Sides] A run label (batchrun.run tag): give two, A then B; with --revision, at most one "
              f"(default {DEFAULT_RUN}).")
@click.option("--revision", "revisions", multiple=True, metavar="VALUE",
              help="[Sides] A revision (YAML, as the manifest writes it) of the run's jobs: give two, A then B, "
              "to compare the jobs each left behind.")
@click.option("--rtol", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="[Comparison] Relative tolerance for numbers (of the larger magnitude); 0 with --atol 0 is exact.")
@click.option("--atol", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="[Comparison] Absolute tolerance for numbers.")
@click.option("-o", "--output", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="[Output] A table for people, JSON or CSV (one row per differing field) for tools.")
def diff_command(
    manifest: Manifest,
    endpoint: str | None,
    api_key: str | None,
    runs: tuple[str, ...],
    revisions: tuple[str, ...],
    rtol: float,
    atol: float,
    output: str,
) -> None:
    """Compare the results of two runs, or of two revisions of one run, point by point.

    Points are paired by their key; each is equal, differs (the fields and both values),
    only in A, only in B, in neither, failed or unfinished. Exit 0 when every point is
    equal, 1 otherwise.
    """
    a_side, b_side = sides(runs, revisions)
    with connected(manifest, endpoint, api_key, run_jobs=False) as platform:
        a_report, b_report = read_sides(platform, manifest, [a_side, b_side])
    result = compare(a_report.jobs, b_report.jobs, Tolerance(rtol=rtol, atol=atol))
    if output == "json":
        click.echo(json.dumps(document(manifest.batch, a_side, b_side, result), indent=2, default=str))
    elif output == "csv":
        click.echo(csv_text(result), nl=False)
    else:
        echo_table(result)
        click.echo(f"{a_side.label} against {b_side.label}: {summary(result)}")
    if not result.all_equal:
        unequal = sum(point.verdict is not Verdict.EQUAL for point in result.points)
        raise BatchrunError(f"not equal: {unequal} of {len(result.points)} points ({summary(result)})")


def sides(runs: tuple[str, ...], revisions: tuple[str, ...]) -> tuple[Side, Side]:
    """Side A and side B from the options: two runs, or two revisions of one run."""
    if revisions:
        if len(revisions) != 2 or len(runs) > 1:
            raise click.UsageError("give two revisions (--revision R1 --revision R2) and at most one --run")
        run = runs[0] if runs else DEFAULT_RUN
        first, second = (Side(run, parse_revision(text), has_revision=True) for text in revisions)
        return first, second
    if len(runs) != 2:
        raise click.UsageError("give two runs (--run A --run B) or two revisions (--revision R1 --revision R2)")
    return Side(runs[0]), Side(runs[1])


def summary(result: Diff) -> str:
    counts = ", ".join(f"{count} {verdict}" for verdict, count in result.counts().items())
    return f"{len(result.points)} points: {counts}" if result.points else "no points"


# -- JSON ------------------------------------------------------------------------------------


def document(batch: str, a_side: Side, b_side: Side, result: Diff) -> dict[str, Any]:
    return {
        "format_version": DIFF_FORMAT_VERSION,
        "batch": batch,
        "a": side_document(a_side),
        "b": side_document(b_side),
        "rtol": result.tolerance.rtol,
        "atol": result.tolerance.atol,
        "equal": result.all_equal,
        "summary": result.counts(),
        "points": [point_document(point) for point in result.points],
    }


def side_document(side: Side) -> dict[str, Any]:
    return {"run": side.run, **({"revision": side.revision} if side.has_revision else {})}


def point_document(point: PointDiff) -> dict[str, Any]:
    return {
        "name": point.name,
        "key": point.key,
        "verdict": point.verdict.value,
        "reason": point.reason,
        "a": row_document(point.a),
        "b": row_document(point.b),
        "fields": [field_document(field) for field in point.fields],
    }


def row_document(row: ReportJob | None) -> dict[str, Any] | None:
    """What one side holds for the point, as the report's JSON writes it."""
    return None if row is None else row.document("state", "result", "error", "attempt", "url")


def field_document(field: FieldDifference) -> dict[str, Any]:
    """The field and both values; a side that lacks the field has no key for it."""
    values = {side: value for side, value in (("a", field.a), ("b", field.b)) if value is not ABSENT}
    return {"field": field.field, **values}


# -- CSV and table -----------------------------------------------------------------------------


def lines(point: PointDiff) -> list[tuple[str, Any, Any]]:
    """(field, A, B) per differing field; for any other point one line with the whole results."""
    if point.fields:
        return [(field.field, field.a, field.b) for field in point.fields]
    return [("", _outcome(point.a), _outcome(point.b))]


def _outcome(row: ReportJob | None) -> Any:
    """What a side holds for a point: its result once completed, else its state."""
    if row is None:
        return ABSENT
    return row.result if row.state == JobState.COMPLETED else row.state


def csv_text(result: Diff) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for point in result.points:
        for field, a, b in lines(point):
            writer.writerow([point.name, point.key, point.verdict.value, field, _csv_value(a), _csv_value(b),
                             point.reason])
    return buffer.getvalue()


def _csv_value(value: Any) -> str:
    return ABSENT_TEXT if value is ABSENT else cell(value)


def echo_table(result: Diff) -> None:
    """One line per differing field (the point named on its first), others with their reason:
    rich's table up to :data:`~batchrun.cli.results.RICH_ROWS` lines, plain columns beyond."""
    rows = list(table_lines(result))
    if len(rows) <= RICH_ROWS:
        grid = Table(box=None, header_style="bold", pad_edge=False)
        for column in TABLE_COLUMNS:
            grid.add_column(column, overflow="fold")
        for verdict, cells in rows:
            style = None if verdict is Verdict.DIFFERS else "dim" if verdict is Verdict.EQUAL else "red"
            grid.add_row(*cells, style=style)
        stdout_console().print(grid)
    else:
        write_aligned([TABLE_COLUMNS, *(cells for _, cells in rows)], sys.stdout)


def table_lines(result: Diff) -> Iterator[tuple[Verdict, list[str]]]:
    """Each table line's cells, with the verdict of its point (for its colour)."""
    for point in result.points:
        for number, (field, a, b) in enumerate(lines(point)):
            first = number == 0
            yield point.verdict, [point.name if first else "", point.verdict.value if first else "",
                                  field or point.reason, _table_value(a), _table_value(b)]


def _table_value(value: Any) -> str:
    """Numbers in full: a difference in the tenth digit is still a difference."""
    return ABSENT_TEXT if value is ABSENT else cell(value)
