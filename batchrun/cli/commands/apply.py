"""``batchrun apply``: run the plan, wait for the jobs, write the report."""

from __future__ import annotations

import functools

import click

from batchrun.apply import ApplyOptions, apply_manifest
from batchrun.apply.lock import exclusive_apply
from batchrun.cli.commands.fetch import download_outputs
from batchrun.cli.connection import connected, connection_options
from batchrun.cli.console import announce
from batchrun.cli.options import manifest_options, only_option
from batchrun.cli.panels import PanelCommand
from batchrun.cli.progress import shown
from batchrun.cli.prompts import confirm_once
from batchrun.cli.quiet import echo_job_ids, quiet_option
from batchrun.cli.results import echo_results, output_option
from batchrun.connection import resolve_target
from batchrun.errors import BatchrunError
from batchrun.fetch import destination
from batchrun.manifest import Manifest
from batchrun.plan import DEFAULT_RUN
from batchrun.search.driver import apply_search
from batchrun.search.sampler import require
from batchrun.selectors import manifest_selectors

PLATFORM_KEEPS_RUNNING = (
    "jobs already submitted keep running; run the same command again to adopt them and "
    "finish the rest"
)
EMBEDDED_STOPPED = (
    "the embedded local JMA stopped with this command: its unfinished jobs (jobs that were "
    "processing start over) run when the same command runs again; run `batchrun serve` and "
    "pass --endpoint to keep jobs running between commands"
)


@click.command("apply", cls=PanelCommand)
@manifest_options
@connection_options
@click.option("-y", "--yes", is_flag=True,
              help="Do not ask before deleting orphans or rerunning points that have results; "
              "needed when not interactive.")
@click.option("--prune", is_flag=True,
              help="Delete orphaned jobs: owned by the batch and run, no longer in the manifest.")
@click.option("--rerun-failed", is_flag=True, help="Run failed points again, as new attempts.")
@click.option("--run", "run_label", default=DEFAULT_RUN, show_default=True, metavar="LABEL",
              help="Run label (batchrun.run tag); a new label reproduces the whole batch as new jobs.")
@click.option("--no-wait", is_flag=True,
              help="Return once every job is submitted (still keeping execution.max_running).")
@only_option("Work only on")
@output_option
@quiet_option
def apply_command(
    manifest: Manifest,
    endpoint: str | None,
    api_key: str | None,
    yes: bool,
    prune: bool,
    rerun_failed: bool,
    run_label: str,
    no_wait: bool,
    only: tuple[str, ...],
    output: str,
    quiet: bool,
) -> None:
    """Create the jobs the plan calls for, wait for them and write the report.

    Points already completed are left alone, running jobs are adopted, so running the
    same command again (after Ctrl-C, a crash or a failure) finishes the rest without a
    duplicate job; a second apply of the same batch on this machine waits for the first,
    then finds its work done. A platform that becomes unreachable is retried for
    execution.patience. The report goes to report.dir (<batch>.json/.csv/.md), also after
    a failure or Ctrl-C. Exit codes: 0 every point completed, 1 some failed, the platform
    was unreachable or the report could not be written, 2 usage or manifest error, 130
    interrupted.
    """
    if manifest.search is not None:
        require(manifest.search)  # a missing extra is refused before any platform is touched
    target = resolve_target(manifest, endpoint, api_key)
    embedded = target.endpoint is None
    options = ApplyOptions(
        run=run_label,
        prune=prune,
        rerun_failed=rerun_failed,
        wait=not no_wait,
        only=tuple(manifest_selectors(manifest, only)),
        watch_timeout=not embedded,  # the embedded local JMA enforces execution.timeout itself
    )
    with (
        exclusive_apply(manifest, target, run_label, announce),
        connected(manifest, endpoint, api_key, patience=manifest.execution.patience) as platform,
    ):
        progress = functools.partial(shown, hidden=quiet)
        if manifest.search is not None:
            result = apply_search(platform, manifest, options, notify=announce, progress=progress)
        else:
            result = apply_manifest(
                platform,
                manifest,
                options,
                notify=announce,
                confirm=functools.partial(confirm_once, yes=yes),
                progress=progress,
            )
        fetch_failures = (
            download_outputs(platform, result.report, destination(manifest), manifest.report.download_slots).failed
            if manifest.report.download and not result.interrupted
            else []
        )
    report = result.report
    if quiet:
        echo_job_ids(row for row in report.jobs if row.key in result.selected)
    else:
        echo_results(report, output, result.paths)
    for problem in result.problems:
        announce(problem)
    if result.unsaved is not None:
        if result.interrupted:
            announce(str(result.unsaved))
        else:
            raise result.unsaved
    if result.interrupted:
        announce(EMBEDDED_STOPPED if embedded else PLATFORM_KEEPS_RUNNING)
        raise click.exceptions.Abort()
    if fetch_failures and not (result.failed or result.problems):
        raise BatchrunError(
            f"{len(fetch_failures)} output files could not be downloaded; `batchrun fetch` downloads the rest"
        )
    if report.search is not None:
        unmeasured = sum(entry.value is None for entry in report.search.history)
        if unmeasured:
            raise BatchrunError(
                f"{unmeasured} of {report.search.trials} trials failed or gave no {report.search.objective!r}; "
                "see the report (they count against the budget: apply again asks for no new trials)"
            )
        return
    if result.failed or result.problems:
        raise BatchrunError(
            f"{result.failed} of {len(result.selected)} points did not complete"
            + (f" and {len(result.problems)} deletions failed" if result.problems else "")
            + "; see the report, fix the cause, then apply again (--rerun-failed reruns failed points)"
        )
