"""The report of a batch: one row per point, the newest attempt of its job.

``apply`` builds it at the end (also after a failure or Ctrl-C) and ``report`` rebuilds it
at any time without running anything (:mod:`batchrun.report.fetch`), so it is computed
from the manifest and the jobs the platform holds, never from what one process remembers.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, SkipValidation
from pydantic_core import to_jsonable_python

from batchrun.client import MonitoringLinks, OutputData, RemoteJob, StepInfo
from batchrun.collector import paused
from batchrun.identity import JobSpec, canonical_json
from batchrun.manifest import Manifest
from batchrun.manifest.models import Plot
from batchrun.nesting import dotted
from batchrun.plan import jobs_by_key, newest
from batchrun.states import FAILED, JobState, PointState

FORMAT_VERSION = 1
RESULT = "result"


class StepRef(BaseModel):
    function: str
    version: str
    url: str


ReportOutput = OutputData
"""One WorkData the job wrote into an output data slot: the job record's own, shared by the row."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportLogLine:
    """One line of a failed job's log."""

    timestamp: datetime | None = None
    level: str
    message: str


@dataclass(slots=True)
class ReportJob(MonitoringLinks):
    """One point of the batch and the newest attempt of its job.

    A report holds one per point (100,000 in a large batch), so a row is a slotted dataclass
    made without validation from values that are already typed, and shares what it can:
    the spec's parameters, the job record's texts and times, the one empty tuple for no
    outputs or log lines, and its Logs and Metrics links as the path below ``url`` that
    every row shares (``/Logs``). About 220 bytes of its own, where a pydantic row took 930.
    """

    index: int
    name: str
    key: str
    parameters: dict[str, Any]
    state: str  # a JobState or PointState value
    result: Any = None  # decoded JSON
    error: str | None = None
    attempt: int | None = None
    attempts: int = 0
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    duration_s: float | None = None
    url: str | None = None
    logs: str | None = None  # once a worker took the job, its Logs: a path below url or a URL (logs_url)
    metrics: str | None = None  # and its Metrics (metrics_url)
    outputs: tuple[ReportOutput, ...] = ()  # the WorkData in the job's output slots
    cpu_seconds: float | None = None  # what the job cost, when the platform measured it
    peak_memory_bytes: int | None = None
    log_tail: tuple[ReportLogLine, ...] = ()  # the last lines of a failed job's log

    def json_fields(self) -> dict[str, Any]:
        """The row's fields as the report's JSON names and orders them, as Python values (times
        as datetimes, outputs and log lines as dataclasses): what the JSON writer serialises."""
        return {
            "index": self.index, "name": self.name, "key": self.key, "parameters": self.parameters,
            "state": self.state, "result": self.result, "error": self.error, "attempt": self.attempt,
            "attempts": self.attempts, "created_at": self.created_at, "started_at": self.started_at,
            "completed_at": self.completed_at, "duration_s": self.duration_s, "url": self.url,
            "logs_url": self.logs_url, "metrics_url": self.metrics_url, "outputs": self.outputs,
            "cpu_seconds": self.cpu_seconds, "peak_memory_bytes": self.peak_memory_bytes,
            "log_tail": self.log_tail,
        }

    def document(self, *names: str) -> dict[str, Any]:
        """The row as the report's JSON file holds it (only the fields ``names``, when given):
        JSON values only, times as ISO text, NaN and infinities as null."""
        fields = self.json_fields()
        document: dict[str, Any] = to_jsonable_python(
            {name: fields[name] for name in names} if names else fields, inf_nan_mode="null"
        )
        return document


class ReportAxis(BaseModel):
    """A parameter that varies across the points: what the report's plots are drawn against."""

    name: str
    numeric: bool  # every value is a number
    log: bool = False  # a logspace in the grid, every value positive: plotted on a log scale


class HistoryEntry(BaseModel):
    """One finished trial of a search, in the order its result arrived."""

    trial: int
    name: str
    value: float | None  # None: the trial failed, or its result had no usable objective
    best: float | None  # the best value up to and including this trial
    completed_at: datetime | None = None
    error: str | None = None


class SearchSummary(BaseModel):
    """What a search found: its best trial, the budget used, and the optimisation history."""

    strategy: str
    objective: str
    direction: str
    budget: int
    trials: int  # trials with a job (finished or not)
    best_trial: int | None = None
    best_value: float | None = None
    history: list[HistoryEntry] = []


class Report(BaseModel):
    format_version: int = FORMAT_VERSION
    batch: str
    run: str
    revision: Any = None
    manifest_hash: str
    generated_at: datetime
    step: StepRef
    summary: dict[str, int]
    axes: list[ReportAxis] = []
    plots: list[Plot] = []  # report.plots of the manifest; empty: chosen from the data
    jobs: SkipValidation[list[ReportJob]]  # made by build_report from typed values: held as given
    search: SearchSummary | None = None  # a search's best trial and history; its best trial's row comes first

    @property
    def failed(self) -> list[ReportJob]:
        return [job for job in self.jobs if job.state in FAILED]

    @property
    def complete(self) -> bool:
        """Every point completed."""
        return all(job.state == JobState.COMPLETED for job in self.jobs)


def manifest_hash(manifest: Manifest) -> str:
    """Hash of the effective manifest (after ``--set``), independent of comments and layout."""
    # Serialisation warnings about the grid union do not change the dumped data.
    document = canonical_json(manifest.model_dump(mode="json", warnings=False))
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def build_report(
    manifest: Manifest,
    step: StepInfo,
    specs: Sequence[JobSpec],
    jobs: Iterable[RemoteJob],
    *,
    run: str,
    now: datetime | None = None,
) -> Report:
    """One row per point from the jobs of the run (the newest attempt of each key counts)."""
    moment = now or datetime.now(UTC)
    by_key = jobs_by_key(jobs)
    timeout = manifest.execution.timeout
    # Each point's jobs are let go once its row is made (when ``jobs`` was an iterator, the
    # only copy): a large batch then holds its jobs or its rows, hardly both.
    with paused():  # rows are kept: the collector would only walk them again and again
        rows = [_row(spec, by_key.pop(spec.key, ()), timeout, moment) for spec in specs]
    return Report(
        batch=manifest.batch,
        run=run,
        manifest_hash=manifest_hash(manifest),
        generated_at=moment,
        step=StepRef(function=step.function_name, version=step.version, url=step.url),
        summary=dict(Counter(row.state for row in rows)),
        revision=manifest.revision,
        axes=swept_axes(manifest, specs),
        plots=list(manifest.report.plots),
        jobs=rows,
    )


def flatten_result(result: Any) -> dict[str, Any]:
    """A result as named fields, the one rule for every table, CSV, DataFrame and plot of
    results: a dict's leaves as ``result.<field>`` (nested: ``result.a.b``), anything else
    (a number, a text, a list) as ``result``. No result (a failed point, one not run yet) has
    no fields, so a batch of dict results with a failure among them gets no ``result``
    column beside its ``result.*`` ones."""
    return {} if result is None else dotted(RESULT, result)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def swept_axes(manifest: Manifest, specs: Sequence[JobSpec]) -> list[ReportAxis]:
    """The parameters that take more than one value: the grid's axes in written order, then
    the others (points-file columns); log scale for a grid's logspace with positive values.

    One pass that holds a few facts per parameter, not its values (100,000 of them, say)."""
    first: dict[str, str] = {}  # each parameter's first value, as canonical JSON
    swept: set[str] = set()  # the parameters seen with a second value
    numeric: dict[str, bool] = {}  # every value so far is a number
    positive: dict[str, bool] = {}  # and greater than 0
    for spec in specs:
        for name, value in spec.parameters.items():
            if name not in swept and first.setdefault(name, text := canonical_json(value)) != text:
                swept.add(name)
            if not numeric.setdefault(name, True):
                continue
            if not _is_number(value):
                numeric[name] = False
            elif not value > 0:
                positive[name] = False
    logspace = manifest.logspace_axes()
    return [
        ReportAxis(name=name, numeric=numeric[name],
                   log=numeric[name] and name in logspace and positive.get(name, True))
        for name in dict.fromkeys([*manifest.swept_axes(), *first])
        if name in swept
    ]


def _row(spec: JobSpec, attempts: Sequence[RemoteJob], timeout: float | None, now: datetime) -> ReportJob:
    """A point's row, from values that are already typed: nothing is validated or copied again
    (a row is made per point, and a validated copy of its parameters would double them)."""
    if not attempts:
        return ReportJob(spec.index, spec.name, spec.key, spec.parameters, PointState.NOT_CREATED)
    job = newest(attempts)
    state, error = job.state, job.error
    if timeout is not None and job.started_at is not None and not job.finished:
        running_for = (now - job.started_at).total_seconds()
        if running_for > timeout:
            state, error = PointState.TIMED_OUT, f"still {job.state} after the timeout of {timeout:g} s"
    duration = (
        (job.completed_at - job.started_at).total_seconds()
        if job.completed_at and job.started_at
        else None
    )
    return ReportJob(
        index=spec.index,
        name=spec.name,
        key=spec.key,
        parameters=spec.parameters,
        state=state,
        result=_decode(job.result),
        error=error,
        attempt=job.attempt,
        attempts=len(attempts),
        created_at=job.created_at,
        started_at=job.started_at,
        completed_at=job.completed_at,
        duration_s=duration,
        url=job.url,
        logs=job.logs,
        metrics=job.metrics,
        outputs=job.outputs,
    )


_LITERALS: dict[str, Any] = {"null": None, "true": True, "false": False}
"""Results that are JSON literals (a step that returns None: ``null``), decoded without a parse."""


def _decode(result: str | None) -> Any:
    if not result:
        return None
    if result in _LITERALS:
        return _LITERALS[result]
    try:
        return json.loads(result)
    except json.JSONDecodeError:
        return result
