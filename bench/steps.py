"""Steps the benchmarks run: a no-op and a 50 ms sleep, each keyed by a point index."""

import time

from batchrun import version


@version("1.0.0")
def noop(index: int = 0) -> None:
    """Do nothing: the smallest job (``index`` only makes every point distinct)."""


@version("1.0.0")
def pause(index: int = 0, ms: int = 50) -> int:
    """Sleep ``ms`` milliseconds: a job that takes time."""
    time.sleep(ms / 1000)
    return index
