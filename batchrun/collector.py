"""The garbage collector in batchrun's own processes (the command line, the embedded server).

Importing builds most of the objects such a process ever holds (pydantic schemas, the
libraries' tables), and left alone the collector walks them over and over: while the
command line imports, in every later full collection, and once more at exit, for garbage
the OS takes back anyway (BENCHMARKS.md has what that costs). So the collector pauses while
importing, what the imports built is set aside for good (``gc.freeze``), and at exit
everything is. batchrun closes its own files and connections; none waits for the collector.
A command that reads a batch's jobs builds a record per job, all kept: the collector
pauses for that too, as it would only walk the growing pile of them over and over.
``plan``, ``status`` and ``report`` keep it paused from the read to their last line: what
they read and build (records, entries, rows) is kept to the end and makes next to no garbage.
"""

from __future__ import annotations

import atexit
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0  # threads within paused()
_resume = False  # whether the collector ran before the first of them paused it


@contextmanager
def importing() -> Iterator[None]:
    """Import within: no collections meanwhile, and what was built is never walked again."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def skip_collection_at_exit() -> None:
    """Exit without the final walk over every object."""
    atexit.register(gc.freeze)


@contextmanager
def paused() -> Iterator[None]:
    """Build many objects that are kept (no garbage cycles among them) within: no collections
    meanwhile. Threads may overlap; the collector runs again once the last one is out."""
    global _pauses, _resume
    with _lock:
        if not _pauses:
            _resume = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if not _pauses and _resume:
                gc.enable()
