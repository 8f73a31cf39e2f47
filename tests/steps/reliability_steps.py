"""Steps for the reliability tests: a job that only its first run finds slow."""

import threading
from pathlib import Path

from batchrun import version


@version("1.0.0")
def slow_first_time(marker: str) -> str:
    """The first run writes ``marker`` and blocks (until its worker is stopped); later runs return."""
    path = Path(marker)
    if not path.exists():
        path.write_text("started", encoding="utf-8")
        threading.Event().wait()
    return "second run"
