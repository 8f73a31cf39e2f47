"""``batchrun destroy``: delete every job the batch owns, after asking once."""

from __future__ import annotations

import click

from batchrun.cleanup import DeleteFlags, delete_jobs
from batchrun.cli.connection import connected, connection_options
from batchrun.cli.console import announce
from batchrun.cli.options import manifest_options, run_option
from batchrun.cli.panels import PanelCommand
from batchrun.cli.prompts import confirm_once
from batchrun.errors import BatchrunError
from batchrun.manifest import Manifest


@click.command("destroy", cls=PanelCommand)
@manifest_options
@connection_options
@click.option("-y", "--yes", is_flag=True, help="Do not ask; needed when not interactive.")
@run_option("Delete only the jobs of this run label (default: every run).", default=None)
def destroy_command(
    manifest: Manifest, endpoint: str | None, api_key: str | None, yes: bool, run_label: str | None
) -> None:
    """Delete the jobs tagged with the manifest's batch, with the cleanup section's flags.

    Output WorkData, input WorkData and sub-jobs go along as cleanup.delete_* say. Running
    jobs cannot be deleted: they are reported (exit 1) and the rest is still deleted.
    """
    cleanup = manifest.cleanup
    flags = DeleteFlags(
        output_workdata=cleanup.delete_output_workdata,
        input_workdata=cleanup.delete_input_workdata,
        subjobs_with_data=cleanup.delete_subjobs_with_data,
    )
    with connected(manifest, endpoint, api_key, run_jobs=False) as platform:
        jobs = platform.owned_jobs(manifest.batch, run=run_label)
        scope = f"run {run_label} of batch {manifest.batch!r}" if run_label else f"batch {manifest.batch!r}"
        if not jobs:
            announce(f"{scope} owns no jobs; nothing to delete")
            return
        extras = [
            name
            for name, wanted in (("output WorkData", flags.output_workdata),
                                 ("input WorkData", flags.input_workdata),
                                 ("sub-jobs", flags.subjobs_with_data))
            if wanted
        ]
        along = f" with their {', '.join(extras)}" if extras else ""
        confirm_once(f"Delete {len(jobs)} jobs of {scope}{along}? This cannot be undone.", yes=yes)
        failures = delete_jobs(platform, jobs, flags, threads=manifest.execution.submit, notify=announce)
    for message in failures:
        announce(message)
    announce(f"deleted {len(jobs) - len(failures)} of {len(jobs)} jobs of {scope}")
    if failures:
        raise BatchrunError(f"{len(failures)} jobs could not be deleted (see above); run destroy again later")
