"""``batchrun status``: counts per state and the failed points (with the last lines of their
logs), live from the platform."""

from __future__ import annotations

import json

import click
from rich.console import Console

from batchrun.cli.connection import connected, connection_options
from batchrun.cli.console import stdout_console
from batchrun.cli.options import manifest_options, only_option, run_option
from batchrun.cli.panels import PanelCommand
from batchrun.cli.quiet import echo_job_ids, quiet_option
from batchrun.collector import paused
from batchrun.errors import BatchrunError
from batchrun.manifest import Manifest
from batchrun.plan import excerpt
from batchrun.report import FORMAT_VERSION, Report, log_excerpt, rebuild_report
from batchrun.report.search_view import search_headline
from batchrun.selectors import manifest_selectors, narrow


def status_document(report: Report) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "batch": report.batch,
        "run": report.run,
        "points": len(report.jobs),
        "summary": report.summary,
        **({"search": report.search.model_dump(mode="json", exclude={"history"})} if report.search else {}),
        "failed": [
            {"name": job.name, "key": job.key, "state": job.state, "attempt": job.attempt,
             "error": excerpt(job.error), "url": job.url, "log_tail": log_excerpt(job)}
            for job in report.failed
        ],
    }


def render(report: Report, console: Console) -> None:
    console.print(
        f"Batch [bold]{report.batch}[/] (run {report.run}), step "
        f"{report.step.function}@{report.step.version}: {len(report.jobs)} points",
        highlight=False,
    )
    for state, count in sorted(report.summary.items(), key=lambda item: (-item[1], item[0])):
        console.print(f"  {state:<20} {count}", highlight=False)
    if report.search is not None:
        console.print(search_headline(report), highlight=False, markup=False)
    if report.failed:
        console.print(f"Failed points ({len(report.failed)}):", style="red")
        for job in report.failed:
            console.print(
                f"  ✗ {job.name} (key {job.key}, attempt {job.attempt}, {job.state}): {excerpt(job.error)}",
                highlight=False,
                markup=False,
            )
            for line in log_excerpt(job):
                console.print(f"      │ {line}", style="dim", highlight=False, markup=False)


@click.command("status", cls=PanelCommand)
@manifest_options
@connection_options
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="[Output] Text for people, JSON for tools.")
@quiet_option
@only_option("Show only")
@run_option("The run label to look at (batchrun.run tag).")
def status_command(
    manifest: Manifest,
    endpoint: str | None,
    api_key: str | None,
    output: str,
    quiet: bool,
    only: tuple[str, ...],
    run_label: str,
) -> None:
    """Show how many points are in each state and why the failed ones failed, with the last
    lines of their logs.

    Rebuilt from the platform's jobs on every call. Exit 1 when some (selected) points
    failed.
    """
    selectors = manifest_selectors(manifest, only)
    with paused():  # what is read and built is kept to the end: collections would only walk it
        with connected(manifest, endpoint, api_key, run_jobs=False) as platform:
            report = narrow(rebuild_report(platform, manifest, run=run_label, log_tails=True), selectors)
        if quiet:
            echo_job_ids(report.jobs)
        elif output == "json":
            click.echo(json.dumps(status_document(report), indent=2))
        else:
            render(report, stdout_console())
    if report.failed:
        raise BatchrunError(f"{len(report.failed)} of {len(report.jobs)} points failed")
