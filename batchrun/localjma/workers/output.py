"""A worker's output as log entries: captured per job, stamped, kept bounded (head and tail).

Everything a step writes lands in the worker's log file, one JSON array per line, written
as it happens so a worker that dies still leaves its job's log behind:

* ``print`` and other writes to ``sys.stdout``/``sys.stderr`` and ``logging`` records (with
  their level) are stamped when written, so their order is kept exactly;
* output written to fds 1 and 2 below Python (C code, subprocesses) goes through pipes that
  a thread reads and stamps; each write from Python first takes what the pipes hold, so
  what C code wrote before it comes before it;
* a crash dump (``faulthandler``) is written into the file as plain text.

After each job the worker (or, when the worker died, the pool) reads the file back, at most
``LOG_LIMIT`` bytes of it (the head and the tail, with an entry saying how much was left out
between), and empties it. A job that prints nothing costs one poll.
"""

from __future__ import annotations

import faulthandler
import io
import json
import logging
import os
import select
import sys
import threading
import time
from pathlib import Path

from batchrun.localjma.workers.messages import LogEntry

LOG_LIMIT = 256 * 1024  # bytes of a job's log file kept: the first and the last half of it
LINE_LIMIT = 16 * 1024  # characters; a longer printed line is kept in pieces, a longer record cut
STREAM_LEVELS = {"stdout": "INFO", "stderr": "ERROR"}
CAPTURE_LEVEL = logging.INFO  # the root logger's level in a worker; a step's own loggers may go lower
WORKER_SOURCE = "worker"  # entries the capture adds itself (what it left out, crash dumps)
_PIPE_READ = 64 * 1024


def level_name(levelno: int) -> str:
    """A ``logging`` level by the platform's names: WARNING is WARN, below DEBUG is TRACE."""
    if levelno >= logging.CRITICAL:
        return "CRITICAL"
    if levelno >= logging.ERROR:
        return "ERROR"
    if levelno >= logging.WARNING:
        return "WARN"
    if levelno >= logging.INFO:
        return "INFO"
    return "DEBUG" if levelno >= logging.DEBUG else "TRACE"


class _LogFile:
    """The worker's log file; every writer appends whole lines under one lock."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o600)
        self.lock = threading.RLock()
        self.written = False  # since it was last emptied: a quiet job is known without a system call

    def append(self, entries: list[tuple[float, str, str, str]]) -> None:
        if not entries:
            return
        data = "".join(json.dumps(entry, ensure_ascii=False) + "\n" for entry in entries).encode("utf-8", "replace")
        with self.lock:
            self.written = True
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view):]


def _pieces(line: str) -> list[str]:
    """A line, in pieces of at most ``LINE_LIMIT`` characters."""
    if len(line) <= LINE_LIMIT:
        return [line]
    return [line[start:start + LINE_LIMIT] for start in range(0, len(line), LINE_LIMIT)]


def _capped(message: str) -> str:
    """A ``logging`` message of at most about ``LINE_LIMIT`` characters, saying what it left out."""
    if len(message) <= LINE_LIMIT:
        return message
    return f"{message[:LINE_LIMIT]} … [{len(message) - LINE_LIMIT} characters left out]"


class _Lines:
    """Splits one source's text into stamped lines, holding back an unfinished one."""

    def __init__(self, source: str, level: str) -> None:
        self.source = source
        self.level = level
        self._partial = ""

    def feed(self, text: str, at: float) -> list[tuple[float, str, str, str]]:
        *lines, self._partial = (self._partial + text).split("\n")
        pieces = [piece for line in lines for piece in _pieces(line)]
        while len(self._partial) > LINE_LIMIT:
            pieces.append(self._partial[:LINE_LIMIT])
            self._partial = self._partial[LINE_LIMIT:]
        return [(at, self.level, piece, self.source) for piece in pieces]

    @property
    def pending(self) -> bool:
        return bool(self._partial)

    def end(self, at: float) -> list[tuple[float, str, str, str]]:
        """The unfinished line, as it is."""
        rest, self._partial = self._partial, ""
        return [(at, self.level, rest, self.source)] if rest else []


class _StreamWriter(io.TextIOBase):
    """``sys.stdout``/``sys.stderr`` of a worker: each line becomes an entry as it is written."""

    encoding = "utf-8"

    def __init__(self, log: _LogFile, pipes: _FdPipes, source: str, fd: int) -> None:
        super().__init__()
        self._log = log
        self._pipes = pipes
        self._lines = _Lines(source, STREAM_LEVELS[source])
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd  # subprocess and C code write to the fd, which the pipe pump reads

    def write(self, text: str) -> int:
        with self._log.lock:
            self._pipes.catch_up()
            self._log.append(self._lines.feed(text, time.time()))
        return len(text)

    def end_line(self) -> None:
        if self._lines.pending:
            with self._log.lock:
                self._log.append(self._lines.end(time.time()))


class _RecordHandler(logging.Handler):
    """Appends ``logging`` records with their level and logger name."""

    def __init__(self, log: _LogFile, pipes: _FdPipes) -> None:
        super().__init__(logging.NOTSET)
        self._log = log
        self._pipes = pipes
        self.setFormatter(logging.Formatter("%(message)s"))  # with the traceback of exc_info

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
        except Exception:
            self.handleError(record)
            return
        with self._log.lock:
            self._pipes.catch_up()  # stamped now, not at record.created, so stamps follow the order
            self._log.append([(time.time(), level_name(record.levelno), _capped(message), record.name)])


class _FdPipes:
    """fds 1 and 2 as pipes, read by a thread (or by :meth:`drain`) into stamped lines."""

    def __init__(self, log: _LogFile) -> None:
        self._log = log
        self._readers: dict[int, _Lines] = {}
        for fd, source in ((1, "stdout"), (2, "stderr")):
            read_end, write_end = os.pipe()
            os.dup2(write_end, fd)
            os.close(write_end)
            os.set_blocking(read_end, False)
            self._readers[read_end] = _Lines(source, STREAM_LEVELS[source])
        self._ready = select.poll()
        for read_end in self._readers:
            self._ready.register(read_end, select.POLLIN)
        threading.Thread(target=self._pump, name="batchrun-output", daemon=True).start()

    def _pump(self) -> None:
        waiting = select.poll()
        for read_end in self._readers:
            waiting.register(read_end, select.POLLIN)
        while True:
            for read_end, _ in waiting.poll():
                with self._log.lock:
                    self._read(read_end)

    def catch_up(self) -> None:
        """Take what the pipes hold now (one poll when they hold nothing); call with the lock held."""
        for read_end, _ in self._ready.poll(0):
            self._read(read_end)

    def _read(self, read_end: int) -> None:
        """Whatever the pipe holds now; call with the log's lock held."""
        lines = self._readers[read_end]
        while True:
            try:
                data = os.read(read_end, _PIPE_READ)
            except BlockingIOError:
                return
            if not data:
                return
            self._log.append(lines.feed(data.decode("utf-8", "replace"), time.time()))

    def drain(self) -> None:
        """Read what was written to the fds so far, unfinished lines included."""
        with self._log.lock:
            self.catch_up()
            for lines in self._readers.values():
                if lines.pending:
                    self._log.append(lines.end(time.time()))


class OutputCapture:
    """A worker's stdout, stderr and logging, captured into its log file job by job."""

    def __init__(self, path: str) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        self._log = _LogFile(path)
        self._pipes = _FdPipes(self._log)
        self._streams = (
            _StreamWriter(self._log, self._pipes, "stdout", 1), _StreamWriter(self._log, self._pipes, "stderr", 2)
        )
        sys.stdout, sys.stderr = self._streams
        faulthandler.enable(self._log.fd)
        root = logging.getLogger()
        root.handlers[:] = [_RecordHandler(self._log, self._pipes)]
        root.setLevel(CAPTURE_LEVEL)

    def take(self) -> tuple[LogEntry, ...]:
        """What the job wrote since the last call (head and tail), and empty the file."""
        self._pipes.drain()
        for stream in self._streams:
            stream.end_line()
        with self._log.lock:
            if not self._log.written:
                return ()
            entries = read_capped(self._log.fd)
            os.ftruncate(self._log.fd, 0)
            self._log.written = False
        return entries


def read_log_file(path: Path) -> tuple[LogEntry, ...]:
    """What a worker that is gone left in its log file (head and tail); nothing without a file."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return ()
    try:
        return read_capped(fd)
    finally:
        os.close(fd)


def read_capped(fd: int) -> tuple[LogEntry, ...]:
    """The entries of a log file, at most ``LOG_LIMIT`` bytes of them: the head and the tail,
    cut at line ends, with an entry where the middle was left out."""
    size = os.fstat(fd).st_size
    if size <= LOG_LIMIT:
        return tuple(parse_lines(os.pread(fd, size, 0)))
    half = LOG_LIMIT // 2
    head = os.pread(fd, half, 0)
    head = head[: head.rfind(b"\n") + 1]
    tail = os.pread(fd, half, size - half)
    tail = tail[tail.find(b"\n") + 1:]
    kept_head, kept_tail = parse_lines(head), parse_lines(tail)
    at = kept_tail[0].at if kept_tail else time.time()
    left_out = size - len(head) - len(tail)
    note = LogEntry(at, "WARN", f"[{left_out} bytes of log left out: the first and the last "
                                f"{half // 1024} KiB of {size} bytes are kept]", WORKER_SOURCE)
    return (*kept_head, note, *kept_tail)


def parse_lines(data: bytes) -> list[LogEntry]:
    """Entries from log-file lines; a line that is not an entry (a crash dump) is kept as one."""
    entries: list[LogEntry] = []
    now = time.time()
    for line in data.decode("utf-8", "replace").splitlines():
        try:
            at, level, message, source = json.loads(line)
            entries.append(LogEntry(float(at), str(level), str(message), str(source)))
        except (ValueError, TypeError):
            entries.append(LogEntry(now, "CRITICAL", line, WORKER_SOURCE))
    return entries


def log_text(entries: tuple[LogEntry, ...]) -> str:
    """The messages of entries as text, one per line (for a worker's start-up failure)."""
    return "\n".join(entry.message for entry in entries)
