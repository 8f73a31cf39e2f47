"""Which jobs a re-read must cover, and the latest copy of every job of the run seen so far.

Re-reading the whole run on every wake-up costs one request per 1000 jobs each time, so a
large batch with a small running cap would spend most of its requests re-reading jobs that
finished long ago and can no longer change. A re-read therefore asks only for jobs created
after the oldest one that can still matter, less ``MARGIN`` (the platform's clock):

* an unfinished job seen before may change;
* a job not seen yet was created after the newest job seen so far (a read returns every
  job created before it, so whatever it missed came later); the margin covers creates that
  become visible slightly out of order.

A read of everything every ``FULL_READ_INTERVAL`` seconds bounds what a late job could cost.
Finished jobs never change, so once every job seen has finished and the last read started
after the last job was created, the jobs seen are the platform's picture and the report
needs no read of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from batchrun.platform import RemoteJob

MARGIN = timedelta(seconds=10)
FULL_READ_INTERVAL = 120.0  # seconds (monotonic)


class ReadWindow:
    """Every job of the run seen so far (by URL) and where the next read may start."""

    def __init__(self, jobs: Iterable[RemoteJob], read_at: float) -> None:
        """``jobs``: a read of the whole run that started at ``read_at`` (monotonic)."""
        self.jobs: dict[str, RemoteJob] = {job.url: job for job in jobs}
        self._newest = max(_created_times(self.jobs.values()), default=None)
        self._last_full_read = self._read_at = read_at

    def since(self, now: float) -> datetime | None:
        """``created_after`` for the next read; None reads everything."""
        if now - self._last_full_read >= FULL_READ_INTERVAL:
            return None
        unfinished = _created_times(job for job in self.jobs.values() if not job.finished)
        start = min((*unfinished, *([self._newest] if self._newest else [])), default=None)
        return None if start is None else start - MARGIN

    def saw(self, jobs: Iterable[RemoteJob], since: datetime | None, read_at: float) -> None:
        """Take in a read, started at ``read_at``, of the jobs created after ``since`` (None: all)."""
        for job in jobs:
            self.jobs[job.url] = job
            if job.created_at is not None and (self._newest is None or job.created_at > self._newest):
                self._newest = job.created_at
        if since is None:
            self._last_full_read = read_at
        self._read_at = read_at

    def current(self, last_submitted: float | None) -> bool:
        """Whether the jobs seen are the platform's picture: all finished, and read after the
        last create or start was acknowledged (at ``last_submitted``, monotonic)."""
        read_late_enough = last_submitted is None or self._read_at >= last_submitted
        return read_late_enough and all(job.finished for job in self.jobs.values())


def _created_times(jobs: Iterable[RemoteJob]) -> list[datetime]:
    return [job.created_at for job in jobs if job.created_at is not None]
