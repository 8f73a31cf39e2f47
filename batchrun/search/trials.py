"""The study's only state: the trials as the platform holds them, one tagged job each.

A job of a search run carries ``batchrun.trial=<n>``; its parameters are read back from
the job itself, and its key and spec are recomputed from the manifest, so a job made by
another manifest (other fixed parameters, step version, revision or space) is refused
rather than told to the sampler as if it belonged to this study.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from batchrun.client import RemoteJob
from batchrun.errors import UsageError
from batchrun.identity import TAG_TRIAL, JobSpec
from batchrun.manifest import Manifest, expand_trial
from batchrun.plan import newest
from batchrun.search.objective import Measured, measure
from batchrun.states import JobState

FRESH_STUDY = "start a fresh study with another --run label, or delete this run's jobs with `batchrun destroy`"


@dataclass(frozen=True)
class Trial:
    """One trial: its number, its point as a job spec, and the newest attempt of its job."""

    number: int
    spec: JobSpec
    job: RemoteJob

    @property
    def finished(self) -> bool:
        return self.job.finished

    def measured(self, objective: str) -> Measured:
        """Its objective once finished: a failed job, or a result without the number, has none."""
        if self.job.state != JobState.COMPLETED:
            return Measured(None, self.job.error or f"the job ended {self.job.state}")
        return measure(self.job.result, objective)


def trial_number(job: RemoteJob) -> int | None:
    """The trial number a job is tagged with, if any."""
    for tag in job.tags:
        name, _, value = tag.partition("=")
        if name == TAG_TRIAL and value.isdigit():
            return int(value)
    return None


def read_trials(manifest: Manifest, version: str, jobs: Iterable[RemoteJob]) -> list[Trial]:
    """The trials of a run from its jobs, by number; refuses jobs that are not this study's."""
    search = manifest.search
    assert search is not None
    by_number: dict[int, list[RemoteJob]] = defaultdict(list)
    for job in jobs:
        number = trial_number(job)
        if number is None:
            raise UsageError(f"job {job.url} ({job.name!r}) of batch {manifest.batch!r} is not a trial of a "
                             f"search (a grid made it); {FRESH_STUDY}")
        by_number[number].append(job)
    trials = []
    for number in sorted(by_number):
        job = newest(by_number[number])
        try:
            parameters = json.loads(job.parameters or "null")
        except json.JSONDecodeError:
            parameters = None
        if not isinstance(parameters, dict) or any(name not in parameters for name in search.space):
            raise UsageError(f"trial {number} ({job.url}) lacks parameters of search.space; {FRESH_STUDY}")
        spec = expand_trial(manifest, number, {name: parameters[name] for name in search.space},
                            step_version=version)
        if spec.key != job.key or spec.spec != job.spec:
            raise UsageError(f"trial {number} ({job.url}) was made from another manifest (fixed parameters, "
                             f"step version or revision changed); {FRESH_STUDY}")
        trials.append(Trial(number, spec, job))
    return trials
