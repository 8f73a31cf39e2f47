"""The local JMA's worker processes: run started jobs, one at a time per process.

Workers are started with ``spawn`` (the server runs threads, so forking it is unsafe);
each imports the step sources once and then serves jobs over its own pipe. The pool hands
an offer only to an idle worker, so it always knows which job each process holds: a
process that dies mid-job fails exactly that job, is replaced, and no offer is lost or
run twice. With a ``job_timeout``, a worker still running its job past it is killed the
same way, and the job fails with :func:`timeout_message`. A worker exits on its own when
its server dies (even by SIGKILL), so it never runs on as an orphan while a restarted
server runs the same job again. One dispatcher thread moves offers and results; a second thread hands events
to ``on_events`` in batches (whatever has arrived, in one call), so a slow consumer never
stalls the workers.

A worker's stdout and stderr (Python and C level, crash dumps included) go to a file per
worker; after each job the pool collects it capped to ``LOG_LIMIT`` bytes (head and
tail) into ``JobFinished.log`` and empties the file, so a chatty step never floods the
server's terminal. Tracebacks of failed jobs land there too.

Data slots (see :mod:`.runslots`): with a ``data_dir`` (the server's), workers read input
WorkData from it and write outputs into it; each output a step finishes writing is sent
over the pipe as it happens and reaches ``on_events`` as ``OutputWritten``, before the
job's ``JobFinished``. Each job sees its own URL in ``$BATCHRUN_JOB_URL`` (for
``get_job()`` in step code).

``stop`` drops queued offers (they never ran: the server offers them again after a
restart), lets running jobs finish within the timeout, then kills what is left. As with
any ``spawn`` pool, a program that starts one must guard its entry point with
``if __name__ == "__main__":``, because each worker imports the main module again.
"""

from __future__ import annotations

import faulthandler
import itertools
import logging
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from dataclasses import astuple, dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pydantic_core
from pydantic import ValidationError

from batchrun.localjma.procon_compat.jobmanagement import JOB_URL_VARIABLE
from batchrun.localjma.runslots import DataslotError, InputData, JobSlots, OutputWritten, SlotFiles
from batchrun.localjma.steps import LoadedStep, is_path_source, load_steps

LOG_LIMIT = 64 * 1024
MAX_STARTUP_FAILURES = 3
SCHEMA_ERROR = "ProConSchemaValidationError"
STOPPED_WHILE_RUNNING = "the local JMA stopped while this job was running"
PARENT_CHECK_S = 0.2  # how often a worker checks that its server is still alive

logger = logging.getLogger(__name__)


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
class JobStarted:
    """The job was handed to a worker process, ``at`` then (epoch seconds).

    Events carry their own time because the server records them in batches: a short job
    would otherwise start and finish at the same instant.
    """

    job_id: str
    worker_id: str
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class JobFinished:
    """The job ended: ``result`` is JSON text on success, ``error`` the message otherwise.

    ``log`` is what the step printed (capped), with the traceback of a failure; ``at``: when
    the pool learnt of the end (epoch seconds).
    """

    job_id: str
    result: str | None
    error: str | None
    log: str | None = None
    at: float = field(default_factory=time.time)


Event = JobStarted | JobFinished | OutputWritten


@dataclass
class _Worker:
    worker_id: str
    process: BaseProcess
    conn: Connection
    output_path: Path
    ready: bool = False
    job: JobOffer | None = None
    deadline: float | None = None  # monotonic time the running job must be done by
    timed_out: bool = False
    told_to_stop: bool = False


class WorkerPool:
    """A fixed number of worker processes fed from one queue of job offers."""

    def __init__(
        self,
        sources: Sequence[str],
        size: int,
        on_events: Callable[[list[Event]], None],
        env: Mapping[str, str] | None = None,
        job_timeout: float | None = None,
        data_dir: str | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self._job_timeout = job_timeout
        self._data_dir = data_dir
        self._sources = [str(Path(s).resolve()) if is_path_source(s) else s for s in sources]
        self._size = size
        self._on_events = on_events
        self._env = dict(env or {})
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._offers: deque[JobOffer] = deque()
        self._events: list[Event] = []
        self._events_ready = threading.Condition()
        self._workers: list[_Worker] = []
        self._numbers = itertools.count(1)
        self._startup_failures = 0
        self._failure: str | None = None
        self._stopping = False
        self._forced = False
        self._delivered_all = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
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
        os.close(self._wake_read)
        os.close(self._wake_write)
        self._output_dir.cleanup()

    # -- dispatcher thread -------------------------------------------------------------

    def _dispatch(self) -> None:
        while self._workers:
            waitables: list[Any] = [self._wake_read]
            for worker in self._workers:
                waitables += [worker.conn, worker.process.sentinel]
            ready = wait(waitables, self._until_next_deadline())
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
        deadlines = [w.deadline for w in self._workers if w.job is not None and w.deadline is not None]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def _kill_overdue(self) -> None:
        """Kill workers whose job ran past the timeout; burying them fails the job."""
        now = time.monotonic()
        for worker in self._workers:
            if worker.job is not None and worker.deadline is not None and worker.deadline <= now:
                if not worker.timed_out:
                    worker.timed_out = True
                    worker.process.kill()

    def _spawn(self) -> None:
        worker_id = f"local-{next(self._numbers)}"
        output_path = Path(self._output_dir.name) / f"{worker_id}.log"
        parent_end, child_end = self._context.Pipe()
        process = self._context.Process(
            target=_serve,
            args=(child_end, self._sources, self._env, str(output_path), os.getpid(), self._data_dir),
            name=f"batchrun-worker-{worker_id}",
            daemon=True,
        )
        process.start()
        child_end.close()
        self._workers.append(_Worker(worker_id, process, parent_end, output_path))

    def _receive(self, worker: _Worker) -> None:
        try:
            while worker.conn.poll():
                self._handle(worker, worker.conn.recv())
        except (EOFError, OSError):
            pass  # the process is gone; its sentinel reports that

    def _handle(self, worker: _Worker, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "done" and worker.job is not None and worker.job.job_id == message[1]:
            worker.job = None
            self._emit([JobFinished(*message[1:])])
        elif kind == "output" and worker.job is not None and worker.job.job_id == message[1]:
            self._emit([OutputWritten(*message[1:])])
        elif kind == "ready":
            worker.ready = True
            self._startup_failures = 0
        elif kind == "failed":
            self._fail_pool(message[1])

    def _bury(self, worker: _Worker) -> None:
        self._receive(worker)
        worker.process.join()
        worker.conn.close()
        self._workers.remove(worker)
        code = worker.process.exitcode
        log = _read_log_file(worker.output_path)
        worker.output_path.unlink(missing_ok=True)
        if worker.job is not None:
            if worker.timed_out:
                error = timeout_message(self._job_timeout or 0.0)
            elif self._forced:
                error = STOPPED_WHILE_RUNNING
            else:
                error = f"worker process {worker.worker_id} died (exit code {code}) while running this job"
            self._emit([JobFinished(worker.job.job_id, None, error, log)])
        elif not worker.ready and not worker.told_to_stop:
            self._startup_failures += 1
            if self._startup_failures >= MAX_STARTUP_FAILURES:
                detail = f": {log.strip()}" if log else ""
                self._fail_pool(f"worker processes keep exiting at start (exit code {code}){detail}")
        if not self._stopping and self._failure is None:
            self._spawn()

    def _assign(self) -> None:
        handed: list[tuple[_Worker, JobOffer]] = []
        with self._lock:
            stopping = self._stopping
            for worker in self._workers:
                if not self._offers:
                    break
                if worker.ready and worker.job is None:
                    worker.job = self._offers.popleft()
                    if self._job_timeout is not None:
                        worker.deadline = time.monotonic() + self._job_timeout
                    handed.append((worker, worker.job))
        if handed:
            self._emit([JobStarted(offer.job_id, worker.worker_id) for worker, offer in handed])
        for worker, offer in handed:
            try:
                worker.conn.send(
                    (offer.job_id, offer.function_name, offer.version, offer.parameters, offer.job_url, offer.inputs)
                )
            except OSError:
                pass  # the process died; burying it fails the job
        if stopping:
            for worker in self._workers:
                if worker.job is None and not worker.told_to_stop:
                    worker.told_to_stop = True
                    try:
                        worker.conn.send(None)
                    except OSError:
                        pass

    def _fail_pool(self, reason: str) -> None:
        """Workers cannot load the steps: fail queued and future offers instead of looping."""
        with self._lock:
            self._failure = reason
            dropped = list(self._offers)
            self._offers.clear()
        self._emit([_unrunnable(offer, reason) for offer in dropped])

    # -- events ------------------------------------------------------------------------

    def _emit(self, events: list[Event]) -> None:
        with self._events_ready:
            self._events.extend(events)
            self._events_ready.notify()

    def _notify(self) -> None:
        while True:
            with self._events_ready:
                while not self._events and not self._delivered_all:
                    self._events_ready.wait()
                if not self._events:
                    return
                batch, self._events = self._events, []
            try:
                self._on_events(batch)
            except Exception:
                logger.exception("delivering %d job events failed", len(batch))

    def _wake(self) -> None:
        try:
            os.write(self._wake_write, b"\0")
        except BlockingIOError:
            pass  # the pipe is full, so the dispatcher wakes anyway


def timeout_message(seconds: float) -> str:
    return f"exceeded the local JMA's job timeout of {seconds:g} s; the worker running it was stopped"


def _unrunnable(offer: JobOffer, reason: str) -> JobFinished:
    return JobFinished(offer.job_id, None, f"the local workers cannot run steps: {reason}")


def _read_log_file(path: Path) -> str | None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        return _read_capped(fd)
    finally:
        os.close(fd)


def _read_capped(fd: int) -> str | None:
    """A worker's output, at most ``LOG_LIMIT`` bytes: the head and the tail of it."""
    size = os.fstat(fd).st_size
    if size <= LOG_LIMIT:
        data = os.pread(fd, size, 0)
    else:
        half = LOG_LIMIT // 2
        omitted = f"\n... [{size - 2 * half} bytes omitted] ...\n".encode()
        data = os.pread(fd, half, 0) + omitted + os.pread(fd, half, size - half)
    return data.decode("utf-8", "replace") or None


# -- inside a worker process ---------------------------------------------------------------


def _serve(
    conn: Connection, sources: list[str], env: dict[str, str], output_path: str, server: int, data_dir: str | None
) -> None:
    """A worker's life: load the steps once, then run one job per message until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    threading.Thread(target=_exit_without, args=(server,), name="batchrun-server-watch", daemon=True).start()
    os.environ.update(env)
    output = _capture_output(output_path)
    try:
        steps = {(s.definition.function_name, s.definition.version): s for s in load_steps(sources)}
    except Exception as error:
        conn.send(("failed", str(error)))
        return
    conn.send(("ready",))
    try:
        while (message := conn.recv()) is not None:
            job_id, name, version, parameters, job_url, inputs = message
            os.environ[JOB_URL_VARIABLE] = job_url  # what get_job() in step code reads
            files = SlotFiles(job_id, inputs, data_dir, lambda written: conn.send(("output", *astuple(written))))
            result, failure = run_job(steps.get((name, version)), name, version, parameters, files)
            conn.send(("done", job_id, result, failure, _take_output(output)))
    except (EOFError, OSError):
        pass  # the pool is gone


def _exit_without(server: int) -> None:
    """End the worker once its server is gone: a killed server cannot stop it any other way."""
    pause = threading.Event()
    while os.getppid() == server:
        pause.wait(PARENT_CHECK_S)
    os._exit(1)


def _capture_output(path: str) -> int:
    """Send fds 1 and 2 to the worker's output file (append mode, so truncation rewinds)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    faulthandler.enable()
    return fd


def _take_output(fd: int) -> str | None:
    sys.stdout.flush()
    sys.stderr.flush()
    if not os.fstat(fd).st_size:
        return None
    text = _read_capped(fd)
    os.ftruncate(fd, 0)
    return text


def run_job(
    step: LoadedStep | None, name: str, version: str, parameters: dict[str, Any], files: SlotFiles | None = None
) -> tuple[str | None, str | None]:
    """Run one step as procon does; returns (result JSON text, None) or (None, error).

    ``files`` gives the job's data slots (see :mod:`.runslots`).
    """
    if step is None:
        return None, f"no local implementation of {name}@{version}"
    try:
        arguments = step.parameters_model.model_validate(parameters)
    except ValidationError as error:
        return None, f"{SCHEMA_ERROR}: parameters don't match the signature of {name}: {_problems(error)}"
    try:
        slots = JobSlots(step, files)
        slot_values = slots.arguments()
    except DataslotError as error:
        return None, str(error)
    try:
        value = step.function(**dict(arguments), **slot_values)
    except BaseException as error:  # SystemExit from a step fails the job, not the worker
        traceback.print_exc()
        slots.abandon()
        return None, describe_error(error)
    try:
        slots.finish(slot_values, value)
    except DataslotError as error:
        traceback.print_exc()
        slots.abandon()
        return None, str(error)
    if slots.returns_to_slot:
        return "null", None
    try:
        step.returns_model.model_validate({"value": value})
    except ValidationError as error:
        return None, f"{SCHEMA_ERROR}: the return value of {name} doesn't match its signature: {_problems(error)}"
    try:
        return pydantic_core.to_json(value, by_alias=True).decode(), None
    except Exception as error:
        return None, f"result of {name} is not JSON-serialisable: {error}"


def describe_error(error: BaseException) -> str:
    """procon's ``user_message`` when set, else "<Type>: <message>" of the original error."""
    user_message = getattr(error, "user_message", None)
    if user_message:
        return str(user_message)
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _problems(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'value'}: {problem['msg']}"
        for problem in error.errors()
    )
