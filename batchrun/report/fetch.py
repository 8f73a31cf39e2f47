"""Rebuilding a report from the platform: the batch's jobs read by their tags, nothing run."""

from __future__ import annotations

from batchrun.client import Platform
from batchrun.manifest import Manifest
from batchrun.plan import resolve_points
from batchrun.report.details import with_job_details
from batchrun.report.model import Report, build_report
from batchrun.steps import resolve_step


def rebuild_report(
    platform: Platform, manifest: Manifest, *, run: str, costs: bool = False, log_tails: bool = False
) -> Report:
    """The report from the platform alone: what ``report`` and ``status`` show.

    ``costs`` reads every finished job's Metrics and ``log_tails`` every failed job's Logs
    (see :mod:`.details`); commands that show neither are spared those requests.
    """
    if manifest.search is not None:
        # Imported here: a search's report is built on this package's model (a cycle at import time).
        from batchrun.search.history import search_report
        from batchrun.search.trials import read_trials

        step = resolve_step(platform, manifest.step.function, manifest.step.version)
        trials = read_trials(manifest, step.version, platform.owned_jobs(manifest.batch, run=run))
        return search_report(manifest, step, trials, run=run)
    step, specs = resolve_points(platform, manifest)
    jobs = iter(platform.owned_jobs(manifest.batch, run=run))  # the iterator holds the only copy
    report = build_report(manifest, step, specs, jobs, run=run)
    return with_job_details(platform, report, costs=costs) if costs or log_tails else report
