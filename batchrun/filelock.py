"""Exclusive locks on files between processes (``fcntl.flock``), with the holder's pid inside.

The kernel drops a flock when the holding process dies, SIGKILL included, so a crash
never leaves a stale lock behind and nothing has to be cleaned up by hand. Lock files
are never deleted: removing one while another process waits on it would let two
processes hold "the same" lock.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

POLL_MIN = 0.02  # seconds between tries, doubled up to POLL_MAX while waiting
POLL_MAX = 0.25


class LockBusy(Exception):
    """The lock stayed held by another process for the whole wait."""

    def __init__(self, path: Path, holder: int | None) -> None:
        super().__init__(f"{path} is locked by {describe_holder(holder)}")
        self.path = path
        self.holder = holder


def describe_holder(pid: int | None) -> str:
    return f"pid {pid}" if pid is not None else "another process"


class FileLock:
    """One exclusive lock on ``path`` (created if missing); use ``acquire``/``release`` or ``with``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(
        self, *, timeout: float | None = None, on_wait: Callable[[int | None], None] | None = None
    ) -> None:
        """Take the lock, waiting up to ``timeout`` seconds (None: as long as it takes).

        ``on_wait`` is called once, with the holder's pid, when the lock is busy: as soon as
        the pid can be read (a holder writes it just after taking the lock), else on the
        second try. Raises :class:`LockBusy` after ``timeout``; ``OSError`` when the file
        cannot be opened.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = None if timeout is None else time.monotonic() + timeout
        pause, tries, told, idle = POLL_MIN, 0, False, threading.Event()
        try:
            while not _try_lock(fd):
                tries += 1
                holder = _holder(fd)
                if not told and on_wait is not None and (holder is not None or tries > 1):
                    on_wait(holder)
                    told = True
                if deadline is not None and time.monotonic() >= deadline:
                    raise LockBusy(self.path, _holder(fd))
                idle.wait(pause)
                pause = min(pause * 2, POLL_MAX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (closing the file releases the flock); safe to call twice."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(fd: int) -> int | None:
    """The pid the holder wrote, if it got that far."""
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None
