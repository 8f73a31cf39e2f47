"""A database with many jobs, written straight through the store (creating them over HTTP would
take minutes): the portal's paging is tested and benchmarked on it."""

from __future__ import annotations

import uuid
from pathlib import Path

from batchrun.localjma.store.database import Store
from batchrun.localjma.store.rows import JobRow, utc_now
from batchrun.states import JobState

BATCHES = ("sweep-a", "sweep-b")


def fill(database: Path, count: int) -> None:
    """``count`` jobs in two batches of two runs; every tenth one failed, the rest completed."""
    store = Store(database)
    try:
        with store.transaction():
            for number in range(count):
                now = utc_now()
                store.insert_job(JobRow(
                    0, str(uuid.uuid4()), f"point-{number:05d}",
                    JobState.ERROR if number % 10 == 0 else JobState.COMPLETED,
                    tags=(f"batchrun.batch={BATCHES[number % 2]}", f"batchrun.run={1 + number % 4 // 2}",
                          f"point={number}"),
                    created_at=now, started_at=now, completed_at=now,
                ))
    finally:
        store.close()
