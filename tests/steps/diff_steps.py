"""Steps whose results a rerun can change on purpose, so ``batchrun diff`` has something to find.

The environment of the command that starts the embedded local JMA reaches its workers:
``DIFF_SHIFT`` moves every loss, ``DIFF_FAIL_AT`` makes the point with that ``x`` fail.
"""

import os

from batchrun import version


@version("1.0.0")
def score(x: float) -> dict:
    """A nested result: a loss (shifted by ``DIFF_SHIFT``), metrics, and a fixed label."""
    if "DIFF_FAIL_AT" in os.environ and float(os.environ["DIFF_FAIL_AT"]) == x:
        raise ValueError(f"told to fail at x={x}")
    shift = float(os.environ.get("DIFF_SHIFT", "0"))
    return {"loss": x * 2 + shift, "metrics": {"acc": 1 - x / 10, "epochs": 3}, "label": "fixed"}


@version("1.0.0")
def square(x: float) -> float:
    """A scalar result."""
    return x * x
