"""``batchrun report``: rebuild the batch's report from the platform, running nothing."""

from __future__ import annotations

import click

from batchrun.cli.connection import connected, connection_options
from batchrun.cli.console import announce
from batchrun.cli.options import manifest_options, run_option
from batchrun.cli.panels import PanelCommand
from batchrun.cli.quiet import echo_job_ids, quiet_option
from batchrun.cli.results import echo_results, output_option
from batchrun.collector import paused
from batchrun.errors import BatchrunError
from batchrun.manifest import Manifest
from batchrun.report import rebuild_report, save_report


@click.command("report", cls=PanelCommand)
@manifest_options
@connection_options
@output_option
@quiet_option
@run_option("The run label to report on (batchrun.run tag).")
def report_command(
    manifest: Manifest, endpoint: str | None, api_key: str | None, output: str, quiet: bool, run_label: str
) -> None:
    """Rebuild the report from the jobs on the platform and write it to report.dir.

    Writes <batch>.json/.csv/.md/.html (per report.formats; the HTML page's scripts go to
    _assets/ next to it) atomically and prints the first 40 results, saying where the rest
    are; -o json/csv/md/html prints the whole report (-o html: a page that opens on its own).
    Exit 1 when some points failed, 0 otherwise.
    """
    with paused():  # what is read and built is kept to the end: collections would only walk it
        with connected(manifest, endpoint, api_key, run_jobs=False) as platform:
            report = rebuild_report(platform, manifest, run=run_label, costs=manifest.report.costs, log_tails=True)
        paths = save_report(report, manifest)
        announce("wrote " + ", ".join(str(path) for path in paths))
        if quiet:
            echo_job_ids(report.jobs)
        else:
            echo_results(report, output, paths)
    if report.failed:
        raise BatchrunError(f"{len(report.failed)} of {len(report.jobs)} points failed")
