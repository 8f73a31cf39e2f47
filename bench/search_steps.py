"""The step the search benchmark runs: the Branin function, whose optimum is known."""

import math

from batchrun import version

BRANIN_MINIMUM = 0.397887357729738


def branin_value(x1: float, x2: float) -> float:
    """Branin-Hoo on [-5, 10] x [0, 15]; three global minima of 0.397887."""
    a, b, c = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


@version("1.0.0")
def branin(x1: float, x2: float) -> dict[str, float]:
    """The Branin function at (x1, x2), as a job result."""
    return {"value": branin_value(x1, x2)}
