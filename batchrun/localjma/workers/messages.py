"""What the pool, its worker processes and the pool's owner tell each other.

Over a worker's pipe the pool sends an :class:`OfferBatch` of jobs to run in order (``None``
to stop); the worker answers :class:`WorkerReady` or :class:`WorkerFailed` once, then per
job an :class:`OutputWritten` per output file, a :class:`UsageSampled` now and then while a
long job runs, and a :class:`JobFinished`, sent before it starts the next job. The pool's
owner gets :class:`JobStarted`, :class:`OutputWritten`, :class:`UsageSampled`,
:class:`JobFinished` and :class:`JobStopped`.

Every report carries its own time because the server records them in batches: a short
job would otherwise start and finish at the same instant.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class InputData:
    """One WorkData selected in an input slot; its file is named after its id."""

    workdata_id: str
    name: str
    media_type: str
    tags: tuple[str, ...] = ()
    comment: str | None = None


@dataclass(frozen=True)
class JobOffer:
    """A started job for the pool to run."""

    job_id: str
    function_name: str
    version: str
    parameters: dict[str, Any]
    job_url: str
    inputs: tuple[tuple[InputData, ...], ...] = ()  # the WorkData selected per input slot index


@dataclass(frozen=True)
class OfferBatch:
    """Jobs for one worker to run one after the other: one message for many short jobs."""

    offers: tuple[JobOffer, ...]


@dataclass(frozen=True)
class WorkerReady:
    """The worker loaded the steps and takes jobs."""


@dataclass(frozen=True)
class WorkerFailed:
    """The worker cannot load the steps; ``reason`` says why."""

    reason: str


@dataclass(frozen=True)
class JobStarted:
    """The job was handed to worker process ``worker_id`` at ``at`` (epoch seconds)."""

    job_id: str
    worker_id: str
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class LogEntry:
    """One line a step printed or one ``logging`` record, stamped when it was written.

    ``level`` uses the platform's names (TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL);
    ``source`` is ``stdout``, ``stderr``, ``worker`` (the capture's own notes) or a logger's name.
    """

    at: float
    level: str
    message: str
    source: str


@dataclass(frozen=True)
class UsageSample:
    """The job's process tree at ``at``: CPU in cores since the last sample, memory in bytes."""

    at: float
    cpu_cores: float
    memory_bytes: int


@dataclass(frozen=True)
class UsageSampled:
    """A sample of a running job's process tree (only jobs that run a while are sampled)."""

    job_id: str
    sample: UsageSample


@dataclass(frozen=True)
class JobUsage:
    """What a job cost its worker: CPU seconds (own and waited-for children) and peak resident
    memory in bytes."""

    cpu_seconds: float
    peak_memory_bytes: int


@dataclass(frozen=True)
class JobFinished:
    """The job ended at ``at``: ``result`` is JSON text on success, ``error`` the message otherwise.

    ``log`` is what the step printed and logged (head and tail), with the traceback of a
    failure; ``usage`` is None when the worker died before it could measure.
    """

    job_id: str
    result: str | None
    error: str | None
    log: tuple[LogEntry, ...] = ()
    at: float = field(default_factory=time.time)
    usage: JobUsage | None = None


@dataclass(frozen=True)
class JobStopped(JobFinished):
    """The pool was stopped, and killed the worker running this job: it did not end, and runs
    again when the server is started again."""


@dataclass(frozen=True)
class OutputWritten:
    """A running job finished writing a file to an output slot: it is WorkData from now on."""

    job_id: str
    slot_index: int
    workdata_id: str
    filename: str
    media_type: str
    size: int
    tags: tuple[str, ...] = ()
    comment: str | None = None


PoolEvent = JobStarted | JobFinished | OutputWritten | UsageSampled
"""What the pool reports to its owner (a :class:`JobStopped` is a :class:`JobFinished`)."""

WorkerMessage = WorkerReady | WorkerFailed | JobFinished | OutputWritten | UsageSampled
"""What a worker process sends the pool."""
