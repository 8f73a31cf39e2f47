"""The executor's picture of every point it works on, shared by its threads.

Submit threads take work from the board (respecting the running cap), the watch loop
feeds it query pages, and the board turns what it sees into point statuses, new attempts
for failed points and the ``on_failure`` policy. One condition variable guards it all.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from batchrun.apply.window import Ack
from batchrun.client import RemoteJob
from batchrun.identity import JobSpec
from batchrun.states import FAILED, JobState


class Status(StrEnum):
    """Where a point stands in this apply."""

    QUEUED = "queued"
    SUBMITTING = "submitting"
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    TIMED_OUT = "timed out"
    SKIPPED = "skipped"


UNFINISHED = frozenset({Status.SUBMITTING, Status.PENDING, Status.RUNNING})
FINAL = frozenset(
    {Status.COMPLETED, Status.UNCHANGED, Status.FAILED, Status.TIMED_OUT, Status.SKIPPED}
)
SUCCEEDED = frozenset({Status.COMPLETED, Status.UNCHANGED})


class Work(StrEnum):
    """What a submit thread does for a queued point."""

    CREATE = "create"
    START = "start"


class OnFailure(StrEnum):
    CONTINUE = "continue"
    FINISH = "finish"
    CANCEL = "cancel"


@dataclass(slots=True)
class Point:
    """One point of the batch: its spec and the job currently standing for it (one per point
    of a batch of any size: slots)."""

    spec: JobSpec
    status: Status
    attempt: int = 0  # the attempt number of the point's current job (0: none yet)
    work: Work = Work.CREATE
    job: RemoteJob | None = None
    url: str | None = None
    error: str | None = None
    running_since: float | None = None  # monotonic time the job was first seen processing


@dataclass(frozen=True, slots=True)
class Task:
    """A snapshot handed to a submit thread (points themselves stay under the board lock)."""

    point: Point
    spec: JobSpec
    attempt: int
    work: Work
    url: str | None


class Board:
    """Statuses, the submission queue and the failure policy of one apply."""

    def __init__(
        self,
        points: Sequence[Point],
        *,
        max_running: int,
        retries: int,
        timeout: float | None,
        on_failure: OnFailure,
    ) -> None:
        self.points = list(points)
        self._max_running = max_running
        self._timeout = timeout
        self._on_failure = on_failure
        self._retries = retries
        self._retried: dict[int, int] = {}  # retries used, by id of the point: only points that failed
        self._queue = deque(p for p in self.points if p.status is Status.QUEUED)
        self._by_key: dict[str, Point] = {p.spec.key: p for p in self.points}
        # Kept up to date by _move, so that no call walks every point (batches can be large).
        self._tally: Counter[Status] = Counter(p.status for p in self.points)
        self._running: dict[str, Point] = {}
        self._lock = threading.Condition()
        self._closed = False
        self.stopping = False
        self.cancelled = False
        self.finished_here = 0
        self.crash: BaseException | None = None
        self._acks: list[Ack] = []  # creates and starts that went through, not yet taken

    # -- submit threads ------------------------------------------------------------------

    def take(self) -> Task | None:
        """Block until a queued point may be submitted; None once the board is closed."""
        with self._lock:
            while True:
                if self._closed:
                    return None
                if self._queue and not self.stopping and self._unfinished() < self._max_running:
                    point = self._queue.popleft()
                    self._move(point, Status.SUBMITTING)
                    return Task(point, point.spec, point.attempt, point.work, point.url)
                self._lock.wait()

    def add(self, point: Point) -> None:
        """A point decided while the board runs (a search's new trial): queued like the others."""
        with self._lock:
            self.points.append(point)
            self._by_key[point.spec.key] = point
            self._tally[point.status] += 1
            if point.status is Status.QUEUED:
                self._queue.append(point)
            self._lock.notify_all()

    def submitted(self, task: Task, url: str) -> None:
        """A create or start went through; the job is on the platform."""
        with self._lock:
            point = task.point
            if point.attempt == task.attempt and point.status is Status.SUBMITTING:
                point.url = url
                self._move(point, Status.PENDING)
            self._acks.append((time.monotonic(), url))
            self._lock.notify_all()

    def forget_jobs(self) -> None:
        """Let go of every point's job record, once nothing more is watched."""
        with self._lock:
            for point in self.points:
                point.job = None

    def take_acks(self) -> list[Ack]:
        """The creates and starts that went through since the last call, with their times."""
        with self._lock:
            acks, self._acks = self._acks, []
        return acks

    def submit_failed(self, task: Task, message: str) -> None:
        """The platform refused the create or start: the attempt failed without a job."""
        with self._lock:
            if task.point.attempt == task.attempt:
                self._fail(task.point, message, Status.FAILED)
            self._lock.notify_all()

    def crashed(self, error: BaseException) -> None:
        """A submit thread hit an unexpected error: the watch loop re-raises it."""
        with self._lock:
            self.crash = error
            self._lock.notify_all()

    # -- watch loop ------------------------------------------------------------------------

    def observe(self, jobs: Iterable[RemoteJob], now: float) -> None:
        """Take in a fresh query page: each point follows the job of its current attempt."""
        newest: dict[str, RemoteJob] = {}
        for job in jobs:
            point = self._by_key.get(job.key or "")
            if point is None or job.attempt != point.attempt:
                continue
            seen = newest.get(point.spec.key)
            if seen is None or _created(job) >= _created(seen):
                newest[point.spec.key] = job
        with self._lock:
            for key, job in newest.items():
                self._follow(self._by_key[key], job, now)
            self._lock.notify_all()

    def _follow(self, point: Point, job: RemoteJob, now: float) -> None:
        if point.attempt != job.attempt:
            return
        point.job = job
        point.url = job.url
        if point.status not in UNFINISHED:
            return
        if job.state == JobState.COMPLETED:
            self._move(point, Status.COMPLETED)
            point.error = None
            self.finished_here += 1
        elif job.state in FAILED:
            self._fail(point, job.error or f"the job ended in state {job.state}", Status.FAILED)
        elif job.state == JobState.PROCESSING:
            self._move(point, Status.RUNNING)
            if point.running_since is None:
                point.running_since = now
        else:
            self._move(point, Status.PENDING)

    def check_timeouts(self, now: float) -> None:
        """Give up on jobs processing longer than the per-job timeout."""
        if self._timeout is None:
            return
        with self._lock:
            for point in list(self._running.values()):
                started = point.running_since
                if started is not None and now - started >= self._timeout:
                    self._fail(
                        point,
                        f"timed out after {self._timeout:g}s; the job may still be "
                        "running on the platform",
                        Status.TIMED_OUT,
                    )
            self._lock.notify_all()

    def next_deadline(self) -> float | None:
        """The monotonic time the next running job times out, if any."""
        if self._timeout is None:
            return None
        with self._lock:
            starts = [p.running_since for p in self._running.values() if p.running_since is not None]
        return min(starts) + self._timeout if starts else None

    def stop(self) -> None:
        """Submit nothing more: queued points are skipped (running jobs are left alone)."""
        with self._lock:
            self._stop()
            self._lock.notify_all()

    def close(self) -> None:
        """Release the submit threads."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()

    def settled(self, *, wait: bool) -> bool:
        """Nothing left to do: no queued point and (when waiting) no unfinished job."""
        with self._lock:
            busy = UNFINISHED if wait and not self.cancelled else {Status.SUBMITTING}
            return not self._queue and not any(self._tally[status] for status in busy)

    def queued(self) -> int:
        """Points waiting to be submitted."""
        with self._lock:
            return len(self._queue)

    def submitting(self) -> bool:
        """Points are still waiting to be submitted."""
        with self._lock:
            return bool(self._queue) and not self.stopping

    def blocked(self) -> bool:
        """Points wait for a free slot: finished jobs should be noticed soon."""
        with self._lock:
            return bool(self._queue) and not self.stopping and self._unfinished() >= self._max_running

    def unfinished(self) -> int:
        """Jobs submitted (or being submitted) that have not finished yet."""
        with self._lock:
            return self._unfinished()

    def all_changed(self, changed: set[str]) -> bool:
        """Whether every job still awaited is among ``changed`` (the job URLs events named
        since the last re-read) and nothing is left to submit: the next re-read will likely
        find them all finished, so waiting out the re-read interval would only add latency."""
        with self._lock:
            if self._queue or self._tally[Status.SUBMITTING]:
                return False
            awaited = self._unfinished()
            if not awaited or len(changed) < awaited:  # cheap: most wake-ups stop here
                return False
            return all(p.url in changed for p in self.points if p.status in UNFINISHED)

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter({str(status): n for status, n in self._tally.items() if n})

    def done(self) -> int:
        """How many points reached a final status."""
        with self._lock:
            return sum(self._tally[status] for status in FINAL)

    # -- internals (lock held) ---------------------------------------------------------------

    def _unfinished(self) -> int:
        return sum(self._tally[status] for status in UNFINISHED)

    def _move(self, point: Point, status: Status) -> None:
        self._tally[point.status] -= 1
        self._tally[status] += 1
        point.status = status
        if status is Status.RUNNING:
            self._running[point.spec.key] = point
        else:
            self._running.pop(point.spec.key, None)

    def _fail(self, point: Point, message: str, status: Status) -> None:
        point.error = message
        retried = self._retried.get(id(point), 0)
        if retried < self._retries and not self.stopping:
            self._retried[id(point)] = retried + 1
            point.attempt += 1
            point.work = Work.CREATE
            self._move(point, Status.QUEUED)
            point.url = None
            point.running_since = None
            self._queue.appendleft(point)
            return
        self._move(point, status)
        self.finished_here += 1
        if self._on_failure is not OnFailure.CONTINUE:
            self._stop()
            self.cancelled = self._on_failure is OnFailure.CANCEL

    def _stop(self) -> None:
        self.stopping = True
        while self._queue:
            point = self._queue.popleft()
            if point.error is None:
                self._move(point, Status.SKIPPED)
                continue
            # A retry that will not happen: the point stays with its failed attempt.
            self._move(point, Status.FAILED)
            point.attempt = point.job.attempt if point.job else point.attempt - 1
            self.finished_here += 1


def _created(job: RemoteJob) -> float:
    return job.created_at.timestamp() if job.created_at else 0.0
