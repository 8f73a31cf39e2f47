"""The garbage collector in batchrun's own processes (the command line, the embedded server).

Importing builds most of the objects such a process ever holds (pydantic schemas, the
libraries' tables), and left alone the collector walks them over and over: while the
command line imports, in every later full collection, and once more at exit, for garbage
the OS takes back anyway (BENCHMARKS.md has what that costs). So the collector pauses while
importing, what the imports built is set aside for good (``gc.freeze``), and at exit
everything is. batchrun closes its own files and connections; none waits for the collector.
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
