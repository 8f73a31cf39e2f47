"""The sides of a comparison read from the platform: a run, or one revision within a run.

Each side is a report built exactly as ``batchrun report`` builds one
(:func:`batchrun.report.build_report`), from the jobs its tags select. A side also lists
the jobs it has whose point the manifest no longer names (the grid changed between the
runs), named by their job name, so those show up as only in one side instead of vanishing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import yaml

from batchrun.client import Platform, RemoteJob, StepInfo
from batchrun.errors import BatchrunError, UsageError
from batchrun.identity import JobSpec, canonical_json, spec_hash
from batchrun.manifest import Manifest
from batchrun.plan import newest, resolve_points
from batchrun.report.model import Report, build_report


@dataclass(frozen=True)
class Side:
    """Which jobs one side holds: the run label's, and with ``revision`` set only those whose
    spec tag is that revision's (``has_revision`` tells a ``None`` revision from none given)."""

    run: str
    revision: Any = None
    has_revision: bool = False

    @property
    def label(self) -> str:
        return f"run {self.run}" + (f" revision {canonical_json(self.revision)}" if self.has_revision else "")


def read_sides(platform: Platform, manifest: Manifest, sides: Sequence[Side]) -> list[Report]:
    """One report per side, its rows the manifest's points then the side's other points."""
    step, specs = resolve_points(platform, manifest)
    by_run = {run: platform.owned_jobs(manifest.batch, run=run) for run in dict.fromkeys(s.run for s in sides)}
    reports = []
    for side in sides:
        jobs = by_run[side.run]
        if not jobs:
            raise BatchrunError(
                f"run {side.run!r} of batch {manifest.batch!r} has no jobs on the platform, so there is "
                f"nothing to compare: check the label (`batchrun status {manifest.source_path} --run LABEL`)"
            )
        if side.has_revision:
            jobs = [job for job in jobs if job.key is not None and job.spec == spec_hash(job.key, side.revision)]
            if not jobs:
                raise BatchrunError(
                    f"no job of run {side.run!r} of batch {manifest.batch!r} has revision {side.revision!r} "
                    f"({len(by_run[side.run])} jobs checked): the platform no longer has it, or it is "
                    "written differently (--revision reads YAML: 3 is a number, '3' a string)"
                )
        points = [*specs, *strays(specs, jobs, step)]
        reports.append(build_report(manifest, step, points, jobs, run=side.run))
    return reports


def strays(specs: Sequence[JobSpec], jobs: Sequence[RemoteJob], step: StepInfo) -> list[JobSpec]:
    """The points of ``jobs`` the manifest does not name, as specs after the manifest's (their
    parameters unknown: the platform's tags do not carry them)."""
    known = {spec.key for spec in specs}
    attempts: dict[str, list[RemoteJob]] = defaultdict(list)
    for job in jobs:
        if job.key is not None and job.key not in known:
            attempts[job.key].append(job)
    template = JobSpec(index=0, name="", function=step.function_name, version=step.version, parameters={},
                       tags=(), key="", spec="")
    return [
        replace(template, index=len(specs) + offset, name=newest(found).name, key=key, spec=newest(found).spec or "")
        for offset, (key, found) in enumerate(attempts.items())
    ]


def parse_revision(text: str) -> Any:
    """A ``--revision`` value as the manifest's ``revision:`` field reads it: a YAML scalar."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, (dict, list)):
        raise UsageError(f"--revision {text!r}: a revision is a scalar (text, number, true/false), as in the manifest")
    return value
