"""Steps for the apply tests: a point that fails on its first attempt only, and a nap
that leaves a file behind, so a test can tell from outside when jobs are finishing."""

import os
import time
from pathlib import Path

from batchrun import version


@version("1.0.0")
def flaky(marker: str, value: int = 0) -> int:
    """Fail the first time a marker file is seen, succeed afterwards (for retries).

    The marker is created atomically: of two jobs running at once exactly one fails.
    """
    path = Path(marker)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return value
    raise RuntimeError(f"first attempt fails on purpose ({path.name})")


@version("1.0.0")
def nap(folder: str, ms: int) -> int:
    """Sleep ``ms`` milliseconds, then write ``<folder>/<ms>.done``."""
    time.sleep(ms / 1000)
    (Path(folder) / f"{ms}.done").write_text("done", encoding="utf-8")
    return ms
