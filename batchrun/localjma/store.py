"""SQLite persistence of the local JMA: processing steps, jobs, WorkData, their tags and the event log.

One file holds everything but WorkData content (files in the data directory, see
:mod:`batchrun.localjma.workdata`), so stopping and starting the server on the same database loses
nothing. WAL with ``synchronous=NORMAL`` keeps commits cheap (no fsync per job) while a
crash can only lose the last few commits, never corrupt the file. Tags live in their own
``(tag, job)`` table so ``TagsByAnd``/``TagsByOr`` queries are index lookups, and a JSON copy
on the job row keeps rendering a job to one row read. ``job_inputs`` holds the WorkData
selected in each input slot (and answers "is it used?"); an output WorkData names the job,
step and slot that produced it, and ``jobs.outputs`` counts them (a job with outputs cannot
be deleted). The event log is append-only and is kept when jobs and WorkData are deleted.

Recovery after a stop (see :mod:`batchrun.localjma.recovery`): jobs left ``Pending`` never
ran and are offered to the workers again; jobs left ``Processing`` are re-queued (a few
times at most), which the event log records.

One connection is shared by the event loop and the worker-pool thread behind a re-entrant
lock; every statement is short, so holding the lock never blocks a request for long. Only
one server at a time uses a database: a flock on ``<database>.lock`` (naming the holder's
pid) is taken first, and the connection holds SQLite's exclusive lock as well.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

from batchrun.errors import BatchrunError
from batchrun.filelock import FileLock, LockBusy, describe_holder

LOCK_WAIT_S = 2.0  # a server that is stopping releases the database within this

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS steps (
    id TEXT PRIMARY KEY,
    function_name TEXT NOT NULL,
    version TEXT NOT NULL,
    manifest TEXT NOT NULL,
    code_hash TEXT,
    source TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    hidden INTEGER NOT NULL DEFAULT 0,
    deprecated_at TEXT,
    deprecation_reason TEXT,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    UNIQUE (function_name, version)
);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    step_id TEXT,
    parameters TEXT,
    result TEXT,
    error TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    hidden INTEGER NOT NULL DEFAULT 0,
    output_deletable INTEGER NOT NULL DEFAULT 0,
    parent_id TEXT,
    children INTEGER NOT NULL DEFAULT 0,
    worker_id TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    completed_at TEXT,
    outputs INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state);
CREATE INDEX IF NOT EXISTS jobs_by_step ON jobs (step_id);
CREATE INDEX IF NOT EXISTS jobs_by_parent ON jobs (parent_id);
CREATE INDEX IF NOT EXISTS jobs_by_completion ON jobs (completed_at);
CREATE TABLE IF NOT EXISTS job_tags (
    tag TEXT NOT NULL,
    job_seq INTEGER NOT NULL,
    PRIMARY KEY (tag, job_seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    event_type TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    state TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS events_by_time ON events (at);
CREATE INDEX IF NOT EXISTS events_by_resource ON events (resource_id);
CREATE TABLE IF NOT EXISTS workdata (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    kind TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    comments TEXT,
    hidden INTEGER NOT NULL DEFAULT 0,
    secret INTEGER NOT NULL DEFAULT 0,
    deletable INTEGER NOT NULL DEFAULT 1,
    producer_job_id TEXT,
    producer_step_id TEXT,
    producer_slot INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS workdata_by_producer ON workdata (producer_job_id);
CREATE TABLE IF NOT EXISTS workdata_tags (
    tag TEXT NOT NULL,
    workdata_seq INTEGER NOT NULL,
    PRIMARY KEY (tag, workdata_seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS job_inputs (
    job_seq INTEGER NOT NULL,
    slot INTEGER NOT NULL,
    position INTEGER NOT NULL,
    workdata_id TEXT NOT NULL,
    PRIMARY KEY (job_seq, slot, position)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS job_inputs_by_workdata ON job_inputs (workdata_id);
"""

#: Columns added after the first release: (table, column, declaration) for older databases.
_ADDED_COLUMNS = (("events", "detail", "TEXT"), ("jobs", "outputs", "INTEGER NOT NULL DEFAULT 0"))

_JOB_COLUMNS = (
    "seq, id, name, state, step_id, parameters, result, error, tags, hidden, output_deletable,"
    " parent_id, children, worker_id, created_at, started_at, completed_at, outputs"
)
_STEP_COLUMNS = (
    "id, function_name, version, manifest, code_hash, source, tags, hidden, deprecated_at,"
    " deprecation_reason, created_at, modified_at"
)


def utc_now() -> str:
    """The stored timestamp format: fixed-width UTC ISO-8601, so text order is time order."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def as_stored_time(moment: datetime) -> str:
    """A client-supplied aware datetime in the stored format, for comparisons in SQL."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class JobRow:
    """A job as stored; ``parameters`` and ``result`` are JSON text, as on the wire."""

    seq: int
    id: str
    name: str
    state: str
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
    """One line of the event log: what happened to which job, when (epoch seconds), and why."""

    event_type: str
    job_id: str
    state: str | None
    at: float
    detail: str | None = None
    resource_type: str = "Job"  # or "WorkData": logged, never sent to the SSE stream


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
    used: bool = False


_WORKDATA_COLUMNS = (
    "seq, id, name, media_type, size, kind, tags, comments, hidden, secret, deletable,"
    " producer_job_id, producer_step_id, producer_slot, created_at"
)
_WORKDATA_SELECT = (
    f"SELECT {_WORKDATA_COLUMNS},"
    " EXISTS (SELECT 1 FROM job_inputs WHERE job_inputs.workdata_id = workdata.id) AS used FROM workdata"
)


def _workdata(row: Sequence[Any]) -> WorkDataRow:
    values = list(row)
    values[6] = tuple(json.loads(values[6]))
    for flag in (8, 9, 10, 15):
        values[flag] = bool(values[flag])
    return WorkDataRow(*values)


def _job(row: tuple[Any, ...]) -> JobRow:
    values = list(row)
    values[8] = tuple(json.loads(values[8]))
    values[9] = bool(values[9])
    values[10] = bool(values[10])
    return JobRow(*values)


def _step(row: tuple[Any, ...]) -> StepRow:
    values = list(row)
    values[3] = json.loads(values[3])
    values[6] = tuple(json.loads(values[6]))
    values[7] = bool(values[7])
    return StepRow(*values)


def _stored(name: str, value: Any) -> Any:
    if name == "tags":
        return json.dumps(list(value))
    if name == "manifest":
        return json.dumps(value)
    return value


class Store:
    """The database of one local JMA. Thread-safe; nest writes in :meth:`transaction`."""

    def __init__(self, path: Path | str) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._file_lock = _lock_database(target)
        self._db = sqlite3.connect(str(target), check_same_thread=False, isolation_level=None, timeout=0.5)
        self._lock = threading.RLock()
        try:
            # EXCLUSIVE: the first write locks the file until close, so a second server on the
            # same database fails here instead of running (and recovering) the same jobs twice.
            self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._add_missing_columns()
            self.user_id = self._meta("user_id", str(uuid.uuid4()))
        except sqlite3.OperationalError as error:
            self._db.close()
            self._file_lock.release()
            if "locked" not in str(error):
                raise
            raise BatchrunError(
                f"{target} is in use by another local JMA (batchrun serve or apply); "
                "stop that one or choose another --db"
            ) from None

    def _add_missing_columns(self) -> None:
        for table, column, declaration in _ADDED_COLUMNS:
            present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def _meta(self, key: str, default: str) -> str:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, default))
            return str(self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together or not at all (re-entrant: inner ones join)."""
        with self._lock:
            if self._db.in_transaction:
                yield
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._file_lock.release()

    # steps

    def steps(self) -> list[StepRow]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_STEP_COLUMNS} FROM steps ORDER BY created_at").fetchall()
        return [_step(row) for row in rows]

    def insert_step(self, step: StepRow) -> None:
        values = [_stored(name, getattr(step, name)) for name in StepRow.__slots__]
        with self._lock:
            self._db.execute(f"INSERT INTO steps ({_STEP_COLUMNS}) VALUES ({', '.join('?' * len(values))})", values)

    def update_step(self, step_id: str, **changes: Any) -> None:
        assignments = ", ".join(f"{name} = ?" for name in changes)
        values = [_stored(name, value) for name, value in changes.items()]
        with self._lock:
            self._db.execute(f"UPDATE steps SET {assignments} WHERE id = ?", (*values, step_id))

    # jobs

    def job(self, job_id: str) -> JobRow | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _job(row)

    def insert_job(self, job: JobRow) -> JobRow:
        """Store a new job (its ``seq`` is assigned here) with its tags."""
        values = [_stored(name, getattr(job, name)) for name in JobRow.__slots__[1:]]
        columns = _JOB_COLUMNS.split(", ", 1)[1]
        with self._lock:
            cursor = self._db.execute(
                f"INSERT INTO jobs ({columns}) VALUES ({', '.join('?' * len(values))})", values
            )
            seq = int(cursor.lastrowid or 0)
            self._db.executemany(
                "INSERT OR IGNORE INTO job_tags (tag, job_seq) VALUES (?, ?)", [(t, seq) for t in job.tags]
            )
        return replace(job, seq=seq)

    def update_job(self, job: JobRow, *, only_in: Sequence[str] = (), **changes: Any) -> JobRow | None:
        """Apply ``changes``; with ``only_in``, only while the job is in one of those states.

        Returns the updated row, or None when the job is gone or was not in ``only_in``.
        """
        assignments = ", ".join(f"{name} = ?" for name in changes)
        values = [_stored(name, value) for name, value in changes.items()]
        guard = f" AND state IN ({', '.join('?' * len(only_in))})" if only_in else ""
        with self.transaction():
            cursor = self._db.execute(
                f"UPDATE jobs SET {assignments} WHERE id = ?{guard}", (*values, job.id, *only_in)
            )
            if cursor.rowcount == 0:
                return None
            if "tags" in changes:
                self._db.execute("DELETE FROM job_tags WHERE job_seq = ?", (job.seq,))
                self._db.executemany(
                    "INSERT OR IGNORE INTO job_tags (tag, job_seq) VALUES (?, ?)",
                    [(t, job.seq) for t in changes["tags"]],
                )
        if "tags" in changes:
            changes["tags"] = tuple(changes["tags"])
        return replace(job, **changes)

    def adjust_children(self, job_id: str, delta: int) -> None:
        with self._lock:
            self._db.execute("UPDATE jobs SET children = children + ? WHERE id = ?", (delta, job_id))

    def delete_job(self, job: JobRow) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM jobs WHERE id = ?", (job.id,))
            self._db.execute("DELETE FROM job_tags WHERE job_seq = ?", (job.seq,))
            self._db.execute("DELETE FROM job_inputs WHERE job_seq = ?", (job.seq,))

    def jobs_in_state(self, state: str) -> list[JobRow]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE state = ? ORDER BY seq", (state,)
            ).fetchall()
        return [_job(row) for row in rows]

    def find_jobs(self, where: str, args: Sequence[Any], order: str, limit: int, offset: int) -> list[JobRow]:
        """One page of jobs matching a WHERE clause built by :mod:`batchrun.localjma.queries`."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                (*args, limit, offset),
            ).fetchall()
        return [_job(row) for row in rows]

    def count_jobs(self, where: str, args: Sequence[Any]) -> int:
        with self._lock:
            return int(self._db.execute(f"SELECT COUNT(*) FROM jobs WHERE {where}", args).fetchone()[0])

    def job_tags(self, where: str = "1", args: Sequence[Any] = ()) -> list[str]:
        """Distinct tags over the jobs matching ``where`` (all jobs by default), sorted."""
        scope = "" if where == "1" else f" WHERE job_seq IN (SELECT seq FROM jobs WHERE {where})"
        with self._lock:
            rows = self._db.execute(f"SELECT DISTINCT tag FROM job_tags{scope} ORDER BY tag", args).fetchall()
        return [row[0] for row in rows]

    # work data

    def workdata(self, workdata_id: str) -> WorkDataRow | None:
        with self._lock:
            row = self._db.execute(f"{_WORKDATA_SELECT} WHERE id = ?", (workdata_id,)).fetchone()
        return None if row is None else _workdata(row)

    def workdata_ids(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT id FROM workdata")}

    def insert_workdata(self, data: WorkDataRow) -> WorkDataRow:
        """Store a new WorkData (its ``seq`` is assigned here); an output counts on its job."""
        values = [_stored(name, getattr(data, name)) for name in WorkDataRow.__slots__[1:-1]]
        columns = _WORKDATA_COLUMNS.split(", ", 1)[1]
        with self.transaction():
            cursor = self._db.execute(
                f"INSERT INTO workdata ({columns}) VALUES ({', '.join('?' * len(values))})", values
            )
            stored = replace(data, seq=int(cursor.lastrowid or 0))
            self._tag_workdata(stored.seq, stored.tags)
            if data.producer_job_id is not None:
                self._db.execute("UPDATE jobs SET outputs = outputs + 1 WHERE id = ?", (data.producer_job_id,))
        return stored

    def update_workdata(self, data: WorkDataRow, **changes: Any) -> WorkDataRow:
        assignments = ", ".join(f"{name} = ?" for name in changes)
        values = [_stored(name, value) for name, value in changes.items()]
        with self.transaction():
            self._db.execute(f"UPDATE workdata SET {assignments} WHERE id = ?", (*values, data.id))
            if "tags" in changes:
                changes["tags"] = tuple(changes["tags"])
                self._tag_workdata(data.seq, changes["tags"])
        return replace(data, **changes)

    def _tag_workdata(self, seq: int, tags: Sequence[str]) -> None:
        self._db.execute("DELETE FROM workdata_tags WHERE workdata_seq = ?", (seq,))
        self._db.executemany(
            "INSERT OR IGNORE INTO workdata_tags (tag, workdata_seq) VALUES (?, ?)", [(t, seq) for t in tags]
        )

    def delete_workdata(self, data: WorkDataRow) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM workdata WHERE id = ?", (data.id,))
            self._db.execute("DELETE FROM workdata_tags WHERE workdata_seq = ?", (data.seq,))
            if data.producer_job_id is not None:
                self._db.execute("UPDATE jobs SET outputs = outputs - 1 WHERE id = ?", (data.producer_job_id,))

    def find_workdata(
        self, where: str, args: Sequence[Any], order: str, limit: int, offset: int
    ) -> list[WorkDataRow]:
        """One page of WorkData matching a WHERE clause built by :mod:`batchrun.localjma.queries`."""
        with self._lock:
            rows = self._db.execute(
                f"{_WORKDATA_SELECT} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?", (*args, limit, offset)
            ).fetchall()
        return [_workdata(row) for row in rows]

    def count_workdata(self, where: str, args: Sequence[Any]) -> int:
        with self._lock:
            return int(self._db.execute(f"SELECT COUNT(*) FROM workdata WHERE {where}", args).fetchone()[0])

    def workdata_tags(self, where: str = "1", args: Sequence[Any] = ()) -> list[str]:
        """Distinct tags over the WorkData matching ``where`` (all by default), sorted."""
        scope = "" if where == "1" else f" WHERE workdata_seq IN (SELECT seq FROM workdata WHERE {where})"
        with self._lock:
            rows = self._db.execute(f"SELECT DISTINCT tag FROM workdata_tags{scope} ORDER BY tag", args).fetchall()
        return [row[0] for row in rows]

    def job_inputs(self, job: JobRow) -> dict[int, list[WorkDataRow]]:
        """The WorkData selected in each input slot of a job, by slot index, in selection order."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT i.slot, w.* FROM job_inputs i JOIN ({_WORKDATA_SELECT}) w ON w.id = i.workdata_id"
                " WHERE i.job_seq = ? ORDER BY i.slot, i.position",
                (job.seq,),
            ).fetchall()
        selected: dict[int, list[WorkDataRow]] = {}
        for row in rows:
            selected.setdefault(row[0], []).append(_workdata(row[1:]))
        return selected

    def select_inputs(self, job: JobRow, slot: int, workdata_ids: Sequence[str]) -> None:
        """Replace the selection of one input slot (an empty list clears it)."""
        with self.transaction():
            self._db.execute("DELETE FROM job_inputs WHERE job_seq = ? AND slot = ?", (job.seq, slot))
            self._db.executemany(
                "INSERT INTO job_inputs (job_seq, slot, position, workdata_id) VALUES (?, ?, ?, ?)",
                [(job.seq, slot, position, workdata_id) for position, workdata_id in enumerate(workdata_ids)],
            )

    def job_outputs(self, job_id: str) -> dict[int, list[WorkDataRow]]:
        """The WorkData a job produced, by output slot index, oldest first."""
        with self._lock:
            rows = self._db.execute(
                f"{_WORKDATA_SELECT} WHERE producer_job_id = ? ORDER BY producer_slot, seq", (job_id,)
            ).fetchall()
        produced: dict[int, list[WorkDataRow]] = {}
        for row in rows:
            data = _workdata(row)
            produced.setdefault(data.producer_slot or 0, []).append(data)
        return produced

    def set_outputs_deletable(self, job_id: str, deletable: bool) -> None:
        with self._lock:
            self._db.execute("UPDATE workdata SET deletable = ? WHERE producer_job_id = ?", (int(deletable), job_id))

    # events

    def log_events(self, events: Sequence[StoredEvent]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT INTO events (at, event_type, resource_type, resource_id, state, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(e.at, e.event_type, e.resource_type, e.job_id, e.state, e.detail) for e in events],
            )

    def job_events(self, job_id: str) -> list[StoredEvent]:
        """The event log of one job, oldest first (kept after the job is deleted)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT event_type, resource_id, state, at, detail FROM events WHERE resource_id = ? ORDER BY seq",
                (job_id,),
            ).fetchall()
        return [StoredEvent(*row) for row in rows]

    def events_since(self, moment: float) -> list[StoredEvent]:
        with self._lock:
            rows = self._db.execute(
                "SELECT event_type, resource_id, state, at FROM events WHERE at >= ? AND resource_type = 'Job'"
                " ORDER BY seq",
                (moment,),
            ).fetchall()
        return [StoredEvent(*row) for row in rows]

    def event_log(self, resource_id: str | None, after: int, limit: int) -> list[tuple[int, StoredEvent]]:
        """Up to ``limit`` events after sequence number ``after`` (of one resource, or all), oldest
        first, each with its sequence number to continue from."""
        scope = "" if resource_id is None else " AND resource_id = ?"
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, event_type, resource_id, state, at, detail, resource_type FROM events"
                f" WHERE seq > ?{scope} ORDER BY seq LIMIT ?",
                (after, *(() if resource_id is None else (resource_id,)), limit),
            ).fetchall()
        return [(row[0], StoredEvent(*row[1:])) for row in rows]


def _lock_database(target: Path) -> FileLock:
    """Hold ``<database>.lock`` for the store's lifetime, or fail naming the server that has it."""
    lock = FileLock(target.with_name(target.name + ".lock"))
    try:
        lock.acquire(timeout=LOCK_WAIT_S)
    except LockBusy as busy:
        raise BatchrunError(
            f"{target} is in use by another local JMA ({describe_holder(busy.holder)}: batchrun serve "
            "or an apply with the embedded JMA); stop that one, or choose another --db"
        ) from None
    return lock
