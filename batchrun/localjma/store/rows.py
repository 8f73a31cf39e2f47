"""What the store holds, as the other layers read it: steps, jobs, WorkData, event-log lines,
jobs' logs and what jobs cost.

Each row type's field names are its table's column names, so rows are decoded and
encoded by name. Times are stored as fixed-width UTC ISO-8601 text (:func:`utc_now`), so
text order is time order; event-log times are epoch seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from batchrun.states import JobState

_STORED_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now() -> str:
    """The stored timestamp format: fixed-width UTC ISO-8601, so text order is time order."""
    return datetime.now(UTC).strftime(_STORED_TIME)


def as_stored_time(moment: datetime) -> str:
    """A client-supplied aware datetime in the stored format, for comparisons in SQL."""
    return moment.astimezone(UTC).strftime(_STORED_TIME)


def stored_time(text: str) -> datetime:
    """A stored timestamp read back as an aware UTC datetime."""
    return datetime.strptime(text, _STORED_TIME).replace(tzinfo=UTC)


def epoch_as_stored_time(at: float) -> str:
    """Epoch seconds (event and worker-report times) in the stored format."""
    return datetime.fromtimestamp(at, UTC).strftime(_STORED_TIME)


class JobRow(NamedTuple):
    """A job as stored; ``parameters`` and ``result`` are JSON text, as on the wire.

    A named tuple, unlike the other rows: a page of a thousand jobs is decoded into a
    thousand of them, and a tuple is made in a third of the time of a frozen dataclass.
    Change one with ``_replace``."""

    seq: int
    id: str
    name: str
    state: JobState
    step_id: str | None = None
    parameters: str | None = None
    result: str | None = None
    error: str | None = None
    tags: tuple[str, ...] = ()
    hidden: bool = False
    output_deletable: bool = False
    parent_id: str | None = None
    children: int = 0
    worker_id: str | None = None
    created_at: str = ""
    started_at: str | None = None
    completed_at: str | None = None
    outputs: int = 0
    folder_path: str = "/"
    folder_id: str | None = None


@dataclass(frozen=True, slots=True)
class Filing:
    """Where a job or WorkData is filed: its folder's id (for its link) and path (for queries)."""

    folder_id: str | None = None
    folder_path: str = "/"


AT_ROOT = Filing()


@dataclass(frozen=True, slots=True)
class FolderRow:
    """A folder; ``path`` is canonical, with a trailing slash (``/sweeps/b1/``), as the
    ``folder_path`` of the jobs and WorkData filed in it (``/`` is the root)."""

    seq: int
    id: str
    name: str
    path: str
    parent_id: str | None = None
    created_at: str = ""


@dataclass(frozen=True, slots=True)
class StepRow:
    """A registered processing step; ``manifest`` is the procon manifest it was built from."""

    id: str
    function_name: str
    version: str
    manifest: dict[str, Any]
    code_hash: str | None = None
    source: str | None = None
    tags: tuple[str, ...] = ()
    hidden: bool = False
    deprecated_at: str | None = None
    deprecation_reason: str | None = None
    created_at: str = ""
    modified_at: str = ""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One line of the event log: what happened to which resource, when (epoch seconds), and why.

    ``resource_id`` is a job's id, or a WorkData's when ``resource_type`` says so; WorkData
    lines are logged, never sent to the SSE stream.
    """

    event_type: str
    resource_id: str
    state: JobState | None
    at: float
    detail: str | None = None
    resource_type: str = "Job"


@dataclass(frozen=True, slots=True)
class LogLine:
    """One entry of a job's log: when (epoch seconds), how severe (the platform's level names),
    what, and where it came from (``stdout``, ``stderr``, a logger's name)."""

    at: float
    level: str
    message: str
    source: str


@dataclass(frozen=True, slots=True)
class JobProgress:
    """What a worker's report changed: the job's new state, and the worker that has it."""

    id: str
    state: JobState
    worker_id: str | None


@dataclass(frozen=True, slots=True)
class UsageRow:
    """What a job cost the worker that ran it: CPU seconds and peak resident memory in bytes."""

    job_id: str
    worker_id: str | None
    cpu_seconds: float
    peak_memory: int


@dataclass(frozen=True, slots=True)
class SampleRow:
    """A job's process tree at ``at`` (epoch seconds): CPU in cores, resident memory in bytes."""

    job_id: str
    at: float
    cpu_cores: float
    memory: int


@dataclass(frozen=True, slots=True)
class WorkDataRow:
    """A stored WorkData; its content is a file named after ``id`` in the data directory.

    ``producer_*`` link an output to the job, step and output slot that wrote it; ``used``
    (computed, never stored) says whether a job has it in an input slot.
    """

    seq: int
    id: str
    name: str
    media_type: str
    size: int
    kind: str
    tags: tuple[str, ...] = ()
    comments: str | None = None
    hidden: bool = False
    secret: bool = False
    deletable: bool = True
    producer_job_id: str | None = None
    producer_step_id: str | None = None
    producer_slot: int | None = None
    created_at: str = ""
    folder_path: str = "/"
    folder_id: str | None = None
    used: bool = False


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """A statement the store ran, as SQLite ran it (its values written in), and SQLite's plan
    for it: one line per step, such as ``SEARCH jobs USING INTEGER PRIMARY KEY (rowid=?)`` or
    ``SCAN jobs`` (every row read)."""

    sql: str
    steps: tuple[str, ...]
