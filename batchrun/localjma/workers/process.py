"""Inside a worker process: load the steps once, then run the jobs offered until told to stop.

A worker exits on its own when its server dies (even by SIGKILL), so it never runs on as
an orphan while a restarted server runs the same job again. Each job sees its own URL in
``$BATCHRUN_JOB_URL`` (for ``get_job()`` in step code); each output file a step finishes
writing is sent to the pool as it happens, before the job's :class:`JobFinished`.
Tracebacks of failed jobs go to the job's log (see :mod:`.output`); what each job cost is
measured by :mod:`.usage`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import traceback
from collections.abc import Callable
from functools import partial
from multiprocessing.connection import Connection
from typing import Any

import pydantic_core
from pydantic import ValidationError

from batchrun.localjma.procon_compat.jobmanagement import JOB_URL_VARIABLE
from batchrun.localjma.workers.discovery import LoadedStep, load_steps
from batchrun.localjma.workers.messages import (
    JobFinished,
    JobOffer,
    OfferBatch,
    UsageSample,
    UsageSampled,
    WorkerFailed,
    WorkerMessage,
    WorkerReady,
)
from batchrun.localjma.workers.output import OutputCapture
from batchrun.localjma.workers.slot_files import DataslotError, JobSlots, SlotFiles
from batchrun.localjma.workers.usage import UsageMeter

SCHEMA_ERROR = "ProConSchemaValidationError"
PARENT_CHECK_S = 0.2  # how often a worker checks that its server is still alive


def serve(
    conn: Connection, sources: list[str], env: dict[str, str], output_path: str, server: int, data_dir: str | None
) -> None:
    """A worker's life: load the steps once, then run each batch of offers, job by job, until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    threading.Thread(target=_exit_without, args=(server,), name="batchrun-server-watch", daemon=True).start()
    os.environ.update(env)
    output = OutputCapture(output_path)
    send = _locked(conn)  # the usage meter's thread sends too
    try:
        steps = {(s.definition.function_name, s.definition.version): s for s in load_steps(sources)}
    except Exception as error:
        send(WorkerFailed(str(error)))
        return
    meter = UsageMeter()  # after loading the steps, so the first job is not charged for it
    send(WorkerReady())
    try:
        batch: OfferBatch | None
        while (batch := conn.recv()) is not None:
            for offer in batch.offers:
                send(_run(offer, steps, data_dir, send, meter, output))
    except (EOFError, OSError):
        pass  # the pool is gone


def _run(
    offer: JobOffer, steps: dict[tuple[str, str], LoadedStep], data_dir: str | None,
    send: Callable[[WorkerMessage], None], meter: UsageMeter, output: OutputCapture,
) -> JobFinished:
    """Run one offered job, measured and with its output captured."""
    os.environ[JOB_URL_VARIABLE] = offer.job_url  # what get_job() in step code reads
    files = SlotFiles(offer.job_id, offer.inputs, data_dir, send)
    step = steps.get((offer.function_name, offer.version))
    meter.start(partial(_send_sample, send, offer.job_id))
    result, failure = run_job(step, offer.function_name, offer.version, offer.parameters, files)
    usage = meter.finish()
    return JobFinished(offer.job_id, result, failure, output.take(), usage=usage)


def _locked(conn: Connection) -> Callable[[WorkerMessage], None]:
    """``conn.send`` for several threads: one message at a time."""
    lock = threading.Lock()

    def send(message: WorkerMessage) -> None:
        with lock:
            conn.send(message)

    return send


def _send_sample(send: Callable[[WorkerMessage], None], job_id: str, sample: UsageSample) -> None:
    with contextlib.suppress(OSError):  # the pool is gone; the main thread notices
        send(UsageSampled(job_id, sample))


def _exit_without(server: int) -> None:
    """End the worker once its server is gone: a killed server cannot stop it any other way."""
    pause = threading.Event()
    while os.getppid() == server:
        pause.wait(PARENT_CHECK_S)
    os._exit(1)


def run_job(
    step: LoadedStep | None, name: str, version: str, parameters: dict[str, Any], files: SlotFiles | None = None
) -> tuple[str | None, str | None]:
    """Run one step as procon does; returns (result JSON text, None) or (None, error).

    ``files`` gives the job's data slots (see :mod:`.slot_files`).
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
