"""``batchrun logs``: what the batch's jobs printed and logged, point by point."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from rich.console import Console

from batchrun.cli.connection import connected, connection_options
from batchrun.cli.console import announce, stdout_console
from batchrun.cli.options import manifest_options, only_option, run_option
from batchrun.cli.panels import PanelCommand
from batchrun.client import LogLine
from batchrun.manifest import Manifest
from batchrun.report import ReportJob, point_log, rebuild_report
from batchrun.selectors import manifest_selectors, narrow


def _stamp(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _heading(row: ReportJob) -> str:
    attempt = f", attempt {row.attempt}" if row.attempt is not None else ""
    return f"── {row.name} ({row.state}{attempt})"


def _render(console: Console, row: ReportJob, lines: list[LogLine] | None) -> None:
    console.print(_heading(row), style="bold", highlight=False, markup=False)
    if lines is None:
        console.print("   no log: no worker has taken its job", style="dim", highlight=False, markup=False)
    elif not lines:
        console.print("   (empty)", style="dim", highlight=False, markup=False)
    for line in lines or ():
        style = "red" if line.level in ("ERROR", "CRITICAL", "FATAL") else "yellow" if line.level == "WARN" else None
        console.print(f"[{_stamp(line.timestamp)}] {line.level} {line.message}", style=style, highlight=False,
                      markup=False, soft_wrap=True)


def _json_lines(row: ReportJob, lines: list[LogLine] | None) -> None:
    for line in lines or ():
        click.echo(json.dumps({
            "name": row.name, "key": row.key, "state": row.state, "attempt": row.attempt,
            "timestamp": _stamp(line.timestamp) or None, "level": line.level, "message": line.message,
        }))


@click.command("logs", cls=PanelCommand)
@manifest_options
@connection_options
@only_option("Print the logs of")
@click.option("--tail", type=click.IntRange(min=1), default=None, metavar="N",
              help="[Output] Only the last N lines of each point's log.")
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="[Output] Text for people; JSON for tools (one object per log line, naming its point).")
@run_option("The run label whose logs to print (batchrun.run tag).")
def logs_command(
    manifest: Manifest,
    endpoint: str | None,
    api_key: str | None,
    only: tuple[str, ...],
    tail: int | None,
    output: str,
    run_label: str,
) -> None:
    """Print what the batch's jobs printed and logged (stdout, stderr, logging records with
    their level), point by point, from the newest attempt of each point's job.

    The platform keeps the head and the tail of a long log, with a line saying how much it
    left out. Combine with --only, e.g. --only state=failed.
    """
    selectors = manifest_selectors(manifest, only)
    with connected(manifest, endpoint, api_key, run_jobs=False) as platform:
        report = narrow(rebuild_report(platform, manifest, run=run_label), selectors)
        if not report.jobs:
            announce("no points match")
            return
        console = stdout_console()
        for row in report.jobs:
            lines = point_log(platform, row, tail)
            if output == "json":
                _json_lines(row, lines)
            else:
                _render(console, row, lines)
