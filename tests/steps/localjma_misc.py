"""Steps for the local JMA tests that basic.py does not cover."""

import time

from batchrun import version


@version("1.0.0")
def fail_after(ms: int, message: str = "late boom") -> int:
    """Raise after a while, so a waiter is already waiting when the job fails."""
    time.sleep(ms / 1000)
    raise RuntimeError(message)
