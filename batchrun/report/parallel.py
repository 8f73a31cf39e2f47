"""A report's second big file written by a second process, while this one writes the first.

The JSON and CSV files each hold every row, and writing either is a second or so of one
core at 100,000 points. A forked child has the rows already (copy-on-write), so it writes
one file while this process writes the other, and the report is done in the time of the
longer one. A fork is only safe from a process that runs no other thread, and cheap only on
Linux; anywhere else (or while the embedded server or a portal runs threads here, or when
the system has no process to spare) the task simply runs after the others.
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_TRACEBACK_CHARS = 16_000
"""At most this much of a child's traceback crosses the pipe: less than its buffer, so a
child never waits on a parent that reads only once its own file is written."""


@contextmanager
def meanwhile(task: Callable[[], None]) -> Iterator[None]:
    """Run ``task`` in a forked child while the block runs (else after it, here), and raise
    its failure here: an OSError as it was (its errno, text and file), anything else as a
    RuntimeError with the child's traceback. A failure of the block wins over the task's;
    either way the child has ended before this returns (no file is half-written after it)."""
    child = _start(task) if _fork_is_safe() else None
    if child is None:
        yield
        task()
        return
    pid, reader = child
    try:
        yield
    finally:
        failure = _collect(pid, reader)
    if failure is not None:
        raise failure


def _start(task: Callable[[], None]) -> tuple[int, int] | None:
    """Fork a child that runs ``task``: its pid and the pipe it reports a failure on; None
    when the system has no process to spare (the task then runs here)."""
    reader, writer = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(reader)
        os.close(writer)
        return None
    if pid == 0:  # the child: run the task, report a failure, and leave without any cleanup of the parent's
        os.close(reader)
        _run_as_child(task, writer)
    os.close(writer)
    return pid, reader


def _fork_is_safe() -> bool:
    """Linux, and no thread but this one (Python's or a library's: the OS counts them)."""
    if sys.platform != "linux":
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _run_as_child(task: Callable[[], None], writer: int) -> None:
    code = 1
    try:
        task()
        code = 0
    except BaseException as error:
        portable = error if isinstance(error, OSError) else RuntimeError(traceback.format_exc()[-_TRACEBACK_CHARS:])
        os.write(writer, pickle.dumps(portable))
    finally:
        os._exit(code)


def _collect(pid: int, reader: int) -> BaseException | None:
    """Wait for the child; what it reported, or why it ended without a word."""
    with os.fdopen(reader, "rb") as pipe:
        report = pipe.read()
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code == 0:
        return None
    try:
        failure: BaseException = pickle.loads(report)
    except Exception:
        failure = RuntimeError(f"the process writing a report file ended with exit code {code}")
    return failure
