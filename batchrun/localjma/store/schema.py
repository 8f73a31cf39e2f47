"""The database schema as numbered migrations; ``PRAGMA user_version`` counts those applied.

Opening a database applies the migrations it has not had yet, each in one transaction
that also sets its number, so a database is always at exactly one version. A database
of a newer batchrun (a higher version) is refused rather than misread. Databases written
before the schema was numbered say version 0 but have tables: their version is read off
the tables once (see :func:`_unnumbered_version`) and written down.
"""

from __future__ import annotations

import sqlite3

from batchrun.errors import BatchrunError

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: processing steps, jobs and their tags, the event log
    (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE steps (
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
        )""",
        """CREATE TABLE jobs (
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
            completed_at TEXT
        )""",
        "CREATE INDEX jobs_by_state ON jobs (state)",
        "CREATE INDEX jobs_by_step ON jobs (step_id)",
        "CREATE INDEX jobs_by_parent ON jobs (parent_id)",
        "CREATE INDEX jobs_by_completion ON jobs (completed_at)",
        """CREATE TABLE job_tags (
            tag TEXT NOT NULL,
            job_seq INTEGER NOT NULL,
            PRIMARY KEY (tag, job_seq)
        ) WITHOUT ROWID""",
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            event_type TEXT NOT NULL,
            resource_type TEXT NOT NULL,
            resource_id TEXT NOT NULL,
            state TEXT
        )""",
        "CREATE INDEX events_by_time ON events (at)",
    ),
    # 2: WorkData with tags, input selections and outputs per job, event-log details (re-queues)
    (
        "ALTER TABLE events ADD COLUMN detail TEXT",
        "CREATE INDEX events_by_resource ON events (resource_id)",
        "ALTER TABLE jobs ADD COLUMN outputs INTEGER NOT NULL DEFAULT 0",
        """CREATE TABLE workdata (
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
        )""",
        "CREATE INDEX workdata_by_producer ON workdata (producer_job_id)",
        """CREATE TABLE workdata_tags (
            tag TEXT NOT NULL,
            workdata_seq INTEGER NOT NULL,
            PRIMARY KEY (tag, workdata_seq)
        ) WITHOUT ROWID""",
        """CREATE TABLE job_inputs (
            job_seq INTEGER NOT NULL,
            slot INTEGER NOT NULL,
            position INTEGER NOT NULL,
            workdata_id TEXT NOT NULL,
            PRIMARY KEY (job_seq, slot, position)
        ) WITHOUT ROWID""",
        "CREATE INDEX job_inputs_by_workdata ON job_inputs (workdata_id)",
    ),
    # 3: folders; jobs and WorkData name the folder they are filed in by id and by path
    (
        """CREATE TABLE folders (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            path TEXT NOT NULL UNIQUE,
            parent_id TEXT,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX folders_by_parent ON folders (parent_id)",
        "ALTER TABLE jobs ADD COLUMN folder_path TEXT NOT NULL DEFAULT '/'",
        "ALTER TABLE jobs ADD COLUMN folder_id TEXT",
        "CREATE INDEX jobs_by_folder ON jobs (folder_path)",
        "ALTER TABLE workdata ADD COLUMN folder_path TEXT NOT NULL DEFAULT '/'",
        "ALTER TABLE workdata ADD COLUMN folder_id TEXT",
        "CREATE INDEX workdata_by_folder ON workdata (folder_path)",
    ),
    # 4: per job, what it printed and logged (bounded by the workers), what it cost, samples of its cost
    (
        """CREATE TABLE job_logs (
            job_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            at REAL NOT NULL,
            level TEXT NOT NULL,
            message TEXT NOT NULL,
            source TEXT NOT NULL,
            PRIMARY KEY (job_id, position)
        ) WITHOUT ROWID""",
        """CREATE TABLE job_usage (
            job_id TEXT PRIMARY KEY,
            worker_id TEXT,
            cpu_seconds REAL NOT NULL,
            peak_memory INTEGER NOT NULL
        )""",
        """CREATE TABLE job_samples (
            job_id TEXT NOT NULL,
            at REAL NOT NULL,
            cpu_cores REAL NOT NULL,
            memory INTEGER NOT NULL,
            PRIMARY KEY (job_id, at)
        ) WITHOUT ROWID""",
    ),
    # 5: the tags of one job or WorkData by its row, so deleting or re-tagging one (and listing the
    # tags a query's matches carry) reads its own few tag rows, not every tag row of the database
    (
        "CREATE INDEX job_tags_by_job ON job_tags (job_seq, tag)",
        "CREATE INDEX workdata_tags_by_workdata ON workdata_tags (workdata_seq, tag)",
    ),
)


def migrate(db: sqlite3.Connection, name: str) -> None:
    """Bring the database ``name`` (for messages) up to the newest version."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version == 0:
        version = _unnumbered_version(db)
        db.execute(f"PRAGMA user_version = {version}")
    if version > len(MIGRATIONS):
        raise BatchrunError(
            f"{name} has schema version {version}, newer than the {len(MIGRATIONS)} this batchrun knows: "
            "open it with that newer batchrun"
        )
    for number in range(version + 1, len(MIGRATIONS) + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[number - 1]:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def _unnumbered_version(db: sqlite3.Connection) -> int:
    """The version of a database from before the numbering: 0 when it is new (no tables),
    2 when its event log has details (those servers had every table of version 2), else 1."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'").fetchone() is None:
        return 0
    columns = {column["name"] for column in db.execute("PRAGMA table_info(events)")}
    return 2 if "detail" in columns else 1
