"""Rebuilding a report from the platform: the batch's jobs read by their tags, nothing run."""

from __future__ import annotations

from batchrun.client import Platform
from batchrun.manifest import Manifest
from batchrun.plan import resolve_points
from batchrun.report.model import Report, build_report


def rebuild_report(platform: Platform, manifest: Manifest, *, run: str) -> Report:
    """The report from the platform alone: what ``report`` and ``status`` show."""
    step, specs = resolve_points(platform, manifest)
    return build_report(manifest, step, specs, platform.owned_jobs(manifest.batch, run=run), run=run)
