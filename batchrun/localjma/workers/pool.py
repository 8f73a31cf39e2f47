"""The pool of worker processes that runs started jobs, one at a time per process.

Workers are started with ``spawn`` (the server runs threads, so forking it is unsafe);
each imports the step sources once and then serves jobs over its own pipe (see
:mod:`.process`). The pool hands offers only to an idle worker, in an :class:`OfferBatch`
that the worker runs in order, answering each job before it starts the next. So the pool
always knows which job each process is running (the first one of its batch not yet
answered): a process that dies mid-job fails exactly that job, is replaced, the rest of
its batch goes back to the queue, and no offer is lost or run twice. With a
``job_timeout``, a worker still running its job past it is killed the same way, and the
job fails with :func:`timeout_message`. A batch holds several jobs only of steps whose last
job ran for so short a time that the whole batch is expected to take at most
``BATCH_SECONDS``, and never more than an even share of the queue: a slow step's jobs go
one at a time, so no job waits behind another while a worker is idle. One dispatcher
thread moves offers and results; a second thread hands events to ``on_events`` in batches
(whatever has arrived, in one call), so a slow consumer never stalls the workers.

Each worker's output goes to a file of its own (see :mod:`.output`) and comes back with
each :class:`JobFinished` as its ``log``, with the job's ``usage`` (see :mod:`.usage`).
With a ``data_dir`` (the server's), workers read input WorkData from it and write outputs
into it (see :mod:`.slot_files`); each output a step finishes writing reaches ``on_events``
as :class:`OutputWritten` before the job's :class:`JobFinished`.

``stop`` drops queued offers (they never ran: the server offers them again after a
restart), lets running jobs finish within the timeout, then kills what is left; the jobs
it kills are reported as :class:`JobStopped`. As with any ``spawn`` pool, a program that
starts one must guard its entry point with ``if __name__ == "__main__":``, because each
worker imports the main module again.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import selectors
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from batchrun.localjma.workers.discovery import is_path_source
from batchrun.localjma.workers.messages import (
    JobFinished,
    JobOffer,
    JobStarted,
    JobStopped,
    OfferBatch,
    OutputWritten,
    PoolEvent,
    UsageSampled,
    WorkerMessage,
    WorkerReady,
)
from batchrun.localjma.workers.output import log_text, read_log_file
from batchrun.localjma.workers.process import serve

MAX_STARTUP_FAILURES = 3
GATHER_S = 0.001  # the event thread waits this long after a wake-up for more (one transaction for all)
BATCH_SECONDS = 0.01  # how long the jobs handed to a worker at once are expected to run, at most
MAX_BATCH = 64
STOPPED_WHILE_RUNNING = "the local JMA stopped while this job was running"

logger = logging.getLogger(__name__)


@dataclass
class _Worker:
    worker_id: str
    process: BaseProcess
    conn: Connection
    output_path: Path
    ready: bool = False
    held: deque[JobOffer] = field(default_factory=deque)  # its batch not yet answered: the first one runs
    started_at: float = 0.0  # when the running job started (epoch seconds)
    deadline: float | None = None  # monotonic time the running job must be done by
    timed_out: bool = False
    told_to_stop: bool = False


class WorkerPool:
    """A fixed number of worker processes fed from one queue of job offers."""

    def __init__(
        self,
        sources: Sequence[str],
        size: int,
        on_events: Callable[[list[PoolEvent]], None],
        env: Mapping[str, str] | None = None,
        job_timeout: float | None = None,
        data_dir: str | None = None,
        batch_seconds: float = BATCH_SECONDS,
    ) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self._job_timeout = job_timeout
        self._batch_seconds = batch_seconds
        self._data_dir = data_dir
        self._sources = [str(Path(s).resolve()) if is_path_source(s) else s for s in sources]
        self._size = size
        self._on_events = on_events
        self._env = dict(env or {})
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._offers: deque[JobOffer] = deque()
        self._events: list[PoolEvent] = []
        self._events_ready = threading.Condition()
        self._workers: list[_Worker] = []
        self._seconds: dict[tuple[str, str], float] = {}  # how long each step's last job ran
        self._numbers = itertools.count(1)
        self._startup_failures = 0
        self._failure: str | None = None
        self._stopping = False
        self._forced = False
        self._delivered_all = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        # Registered once (workers as they come and go): a selector built per wake-up, as
        # multiprocessing's wait() does, costs more than the message it waits for.
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_read, selectors.EVENT_READ)
        self._output_dir = tempfile.TemporaryDirectory(prefix="batchrun-workers-")
        self._dispatcher = threading.Thread(target=self._dispatch, name="batchrun-dispatch", daemon=True)
        self._notifier = threading.Thread(target=self._notify, name="batchrun-events", daemon=True)

    def start(self) -> None:
        """Start the worker processes and the pool's threads; returns without waiting."""
        for _ in range(self._size):
            self._spawn()
        self._dispatcher.start()
        self._notifier.start()

    def submit(self, offer: JobOffer) -> None:
        """Queue a job for the next idle worker (thread-safe, never blocks).

        Once ``stop`` has begun, offers are dropped like queued ones: the job never ran.
        """
        with self._lock:
            if self._stopping:
                return
            failure = self._failure
            if failure is None:
                self._offers.append(offer)
        if failure is None:
            self._wake()
        else:
            self._emit([_unrunnable(offer, failure)])

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking jobs, let running ones finish within ``timeout``, then kill the rest."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            self._offers.clear()
        self._wake()
        if self._dispatcher.is_alive():
            self._dispatcher.join(timeout)
            if self._dispatcher.is_alive():
                self._forced = True
                for worker in list(self._workers):
                    worker.process.kill()
                self._dispatcher.join()
        with self._events_ready:
            self._delivered_all = True
            self._events_ready.notify()
        if self._notifier.is_alive():
            self._notifier.join()
        self._selector.close()
        os.close(self._wake_read)
        os.close(self._wake_write)
        self._output_dir.cleanup()

    # -- dispatcher thread -------------------------------------------------------------

    def _dispatch(self) -> None:
        while self._workers:
            ready = {key.fileobj for key, _ in self._selector.select(self._until_next_deadline())}
            if self._wake_read in ready:
                os.read(self._wake_read, 65536)
            for worker in list(self._workers):
                if worker.conn in ready:
                    self._receive(worker)
                if worker.process.sentinel in ready:
                    self._bury(worker)
            self._kill_overdue()
            self._assign()

    def _until_next_deadline(self) -> float | None:
        deadlines = [w.deadline for w in self._workers if w.held and w.deadline is not None]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def _kill_overdue(self) -> None:
        """Kill workers whose job ran past the timeout; burying them fails the job."""
        now = time.monotonic()
        for worker in self._workers:
            overdue = bool(worker.held) and worker.deadline is not None and worker.deadline <= now
            if overdue and not worker.timed_out:
                worker.timed_out = True
                worker.process.kill()

    def _spawn(self) -> None:
        worker_id = f"local-{next(self._numbers)}"
        output_path = Path(self._output_dir.name) / f"{worker_id}.log"
        parent_end, child_end = self._context.Pipe()
        process = self._context.Process(
            target=serve,
            args=(child_end, self._sources, self._env, str(output_path), os.getpid(), self._data_dir),
            name=f"batchrun-worker-{worker_id}",
            daemon=True,
        )
        process.start()
        child_end.close()
        self._selector.register(parent_end, selectors.EVENT_READ)
        self._selector.register(process.sentinel, selectors.EVENT_READ)
        self._workers.append(_Worker(worker_id, process, parent_end, output_path))

    def _receive(self, worker: _Worker, drain: bool = False) -> None:
        """One message (the selector reports the pipe again while it holds more), or with
        ``drain`` every message left in it."""
        try:
            self._handle(worker, worker.conn.recv())
            while drain and worker.conn.poll():
                self._handle(worker, worker.conn.recv())
        except (EOFError, OSError):
            pass  # the process is gone; its sentinel reports that

    def _handle(self, worker: _Worker, message: WorkerMessage) -> None:
        if isinstance(message, (JobFinished, OutputWritten, UsageSampled)):
            if not worker.held or worker.held[0].job_id != message.job_id:
                return
            if isinstance(message, JobFinished):
                self._finished(worker, message)
            else:
                self._emit([message])
        elif isinstance(message, WorkerReady):
            worker.ready = True
            self._startup_failures = 0
        else:
            self._fail_pool(message.reason)

    def _finished(self, worker: _Worker, message: JobFinished) -> None:
        """The running job ended: the next one of the batch starts as the worker sends this."""
        offer = worker.held.popleft()
        self._seconds[(offer.function_name, offer.version)] = message.at - worker.started_at
        if not worker.held:
            worker.deadline = None
            self._emit([message])
            return
        self._start(worker, message.at)
        self._emit([message, JobStarted(worker.held[0].job_id, worker.worker_id, message.at)])

    def _start(self, worker: _Worker, at: float) -> None:
        """The first held job runs from ``at`` (epoch seconds); its deadline counts from now."""
        worker.started_at = at
        if self._job_timeout is not None:
            worker.deadline = time.monotonic() + self._job_timeout

    def _bury(self, worker: _Worker) -> None:
        if worker.conn.poll():
            self._receive(worker, drain=True)
        worker.process.join()
        self._selector.unregister(worker.conn)
        self._selector.unregister(worker.process.sentinel)
        worker.conn.close()
        self._workers.remove(worker)
        code = worker.process.exitcode
        log = read_log_file(worker.output_path)
        worker.output_path.unlink(missing_ok=True)
        if worker.held:
            running = worker.held.popleft()
            self._seconds[(running.function_name, running.version)] = float("inf")  # alone until one ends
            self._requeue(worker.held)
            job_id = running.job_id
            ended: JobFinished
            if worker.timed_out:
                ended = JobFinished(job_id, None, timeout_message(self._job_timeout or 0.0), log)
            elif self._forced:
                ended = JobStopped(job_id, None, STOPPED_WHILE_RUNNING, log)
            else:
                error = f"worker process {worker.worker_id} died (exit code {code}) while running this job"
                ended = JobFinished(job_id, None, error, log)
            self._emit([ended])
        elif not worker.ready and not worker.told_to_stop:
            self._startup_failures += 1
            if self._startup_failures >= MAX_STARTUP_FAILURES:
                detail = f": {log_text(log).strip()}" if log else ""
                self._fail_pool(f"worker processes keep exiting at start (exit code {code}){detail}")
        if not self._stopping and self._failure is None:
            self._spawn()

    def _requeue(self, offers: deque[JobOffer]) -> None:
        """Offers a dead worker held but never started go first in the queue, in their order."""
        with self._lock:
            if not self._stopping:
                self._offers.extendleft(reversed(offers))
        offers.clear()

    def _assign(self) -> None:
        handed: list[_Worker] = []
        with self._lock:
            stopping = self._stopping
            idle = [worker for worker in self._workers if worker.ready and not worker.held]
            for worker in idle:
                if not self._offers:
                    break
                worker.held.extend(self._batch(len(idle) - len(handed)))
                handed.append(worker)
        now = time.time()
        for worker in handed:
            self._start(worker, now)
        if handed:
            self._emit([JobStarted(worker.held[0].job_id, worker.worker_id, now) for worker in handed])
        for worker in handed:
            with contextlib.suppress(OSError):  # the process died; burying it fails the job
                worker.conn.send(OfferBatch(tuple(worker.held)))
        if stopping:
            for worker in self._workers:
                if not worker.held and not worker.told_to_stop:
                    worker.told_to_stop = True
                    with contextlib.suppress(OSError):  # the process died; it is buried anyway
                        worker.conn.send(None)

    def _batch(self, idle: int) -> list[JobOffer]:
        """The next offers for one of ``idle`` workers (call with the lock held): the first
        one, then more while their steps' last jobs say the batch stays within
        ``batch_seconds`` and it takes no more than its share of the queue."""
        share = min(MAX_BATCH, -(-len(self._offers) // idle))
        batch = [self._offers.popleft()]
        expected = self._seconds.get((batch[0].function_name, batch[0].version), float("inf"))
        while self._offers and len(batch) < share:
            following = self._offers[0]
            expected += self._seconds.get((following.function_name, following.version), float("inf"))
            if expected > self._batch_seconds:
                break
            batch.append(self._offers.popleft())
        return batch

    def _fail_pool(self, reason: str) -> None:
        """Workers cannot load the steps: fail queued and future offers instead of looping."""
        with self._lock:
            self._failure = reason
            dropped = list(self._offers)
            self._offers.clear()
        self._emit([_unrunnable(offer, reason) for offer in dropped])

    # -- events ------------------------------------------------------------------------

    def _emit(self, events: list[PoolEvent]) -> None:
        with self._events_ready:
            self._events.extend(events)
            self._events_ready.notify()

    def _notify(self) -> None:
        pause = threading.Event()
        while True:
            with self._events_ready:
                while not self._events and not self._delivered_all:
                    self._events_ready.wait()
            pause.wait(GATHER_S)
            with self._events_ready:
                if not self._events:
                    return
                batch, self._events = self._events, []
            try:
                self._on_events(batch)
            except Exception:
                logger.exception("delivering %d job events failed", len(batch))

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError):  # the pipe is full, so the dispatcher wakes anyway
            os.write(self._wake_write, b"\0")


def timeout_message(seconds: float) -> str:
    return f"exceeded the local JMA's job timeout of {seconds:g} s; the worker running it was stopped"


def _unrunnable(offer: JobOffer, reason: str) -> JobFinished:
    return JobFinished(offer.job_id, None, f"the local workers cannot run steps: {reason}")
