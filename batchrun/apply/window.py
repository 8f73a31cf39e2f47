"""Which jobs a re-read must cover, and the latest copy of every job of the run seen so far.

Re-reading the whole run on every wake-up costs one request per 1000 jobs each time, so a
large batch would spend most of its requests (and the server most of its time) re-reading
jobs that finished long ago and can no longer change. A re-read therefore asks only for
the jobs created after the oldest one that can still matter (the platform's clock):

* an unfinished job seen before may change;
* a job not seen yet was created after the newest job seen so far;

less ``MARGIN`` for creates that become visible slightly out of order.

Every create or start the platform acknowledged is expected in the next read that starts
after the acknowledgement; one that is missing (a create that became visible late, a
clock that stepped back) makes the next read cover everything. Finished jobs never change,
so once every job seen has finished and every acknowledged one was seen, the jobs seen are
the platform's picture and the report needs no read of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from batchrun.client import RemoteJob

MARGIN = timedelta(seconds=0.25)

Ack = tuple[float, str]  # (monotonic time, job URL) of an acknowledged create or start


class ReadWindow:
    """Every job of the run seen so far (by URL) and where the next read may start."""

    def __init__(self, jobs: Iterable[RemoteJob]) -> None:
        """``jobs``: a read of the whole run (the plan's)."""
        self.jobs: dict[str, RemoteJob] = {job.url: job for job in jobs}
        self._newest = max(_created_times(self.jobs.values()), default=None)
        self._expected: list[Ack] = []
        self._read_everything = False

    def expect(self, acks: Iterable[Ack]) -> None:
        """Jobs the platform acknowledged: reads that start later must show them."""
        self._expected.extend(acks)

    def since(self) -> datetime | None:
        """``created_after`` for the next read; None reads everything."""
        if self._read_everything:
            return None
        unfinished = _created_times(job for job in self.jobs.values() if not job.finished)
        start = min((*unfinished, *([self._newest] if self._newest is not None else [])), default=None)
        return None if start is None else start - MARGIN

    def saw(self, jobs: Iterable[RemoteJob], since: datetime | None, read_at: float) -> None:
        """Take in a read, started at ``read_at``, of the jobs created after ``since`` (None: all)."""
        for job in jobs:
            self.jobs[job.url] = job
            if job.created_at is not None and (self._newest is None or job.created_at > self._newest):
                self._newest = job.created_at
        unseen = [ack for ack in self._expected if ack[1] not in self.jobs]
        missing = [ack for ack in unseen if ack[0] <= read_at]  # this read should have shown them
        # After a read of everything, a job still missing is gone (deleted): stop expecting it.
        self._read_everything = bool(missing) and since is not None
        self._expected = [ack for ack in unseen if ack[0] > read_at or self._read_everything]

    def current(self) -> bool:
        """Whether the jobs seen are the platform's picture: all seen and all finished.

        An acknowledgement may be taken after a read already showed its job (a no-op job
        finishes before its create's answer is handled): seen is seen."""
        seen = all(url in self.jobs for _, url in self._expected)
        return seen and all(job.finished for job in self.jobs.values())


def _created_times(jobs: Iterable[RemoteJob]) -> list[datetime]:
    return [job.created_at for job in jobs if job.created_at is not None]
