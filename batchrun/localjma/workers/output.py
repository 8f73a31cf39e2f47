"""A worker's stdout and stderr: captured in a file per worker, read back capped.

Python and C level output (crash dumps included) goes to the file; after each job the
worker (or, when the worker died, the pool) reads it capped to ``LOG_LIMIT`` bytes, head
and tail, so a chatty step never floods the server's terminal.
"""

from __future__ import annotations

import faulthandler
import os
import sys
from pathlib import Path

LOG_LIMIT = 64 * 1024


def capture_output(path: str) -> int:
    """Send fds 1 and 2 to the worker's output file (append mode, so truncation rewinds)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    faulthandler.enable()
    return fd


def take_output(fd: int) -> str | None:
    """What the job printed since the last call (capped), and empty the file."""
    sys.stdout.flush()
    sys.stderr.flush()
    if not os.fstat(fd).st_size:
        return None
    text = read_capped(fd)
    os.ftruncate(fd, 0)
    return text


def read_output_file(path: Path) -> str | None:
    """What a worker that is gone left in its output file (capped); None without a file."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        return read_capped(fd)
    finally:
        os.close(fd)


def read_capped(fd: int) -> str | None:
    """A worker's output, at most ``LOG_LIMIT`` bytes: the head and the tail of it."""
    size = os.fstat(fd).st_size
    if size <= LOG_LIMIT:
        data = os.pread(fd, size, 0)
    else:
        half = LOG_LIMIT // 2
        omitted = f"\n... [{size - 2 * half} bytes omitted] ...\n".encode()
        data = os.pread(fd, half, 0) + omitted + os.pread(fd, half, size - half)
    return data.decode("utf-8", "replace") or None
