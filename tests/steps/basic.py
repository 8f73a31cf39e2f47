"""Processing steps the tests run on the local JMA: plain typed functions."""

import time

from batchrun import version


@version("1.0.0")
def echo(text: str, times: int = 1) -> str:
    """Repeat a text.

    :param text: what to repeat
    :param times: how often
    :returns: the repeated text
    """
    return text * times


@version("1.0.0")
def add(a: float, b: float) -> dict[str, float]:
    """Add two numbers and also return their product."""
    return {"sum": a + b, "product": a * b}


@version("1.1.0")
def add_v11(a: float, b: float) -> float:
    """Add two numbers (a second step, to test selection by name)."""
    return a + b


def noop() -> None:
    """Do nothing: the smallest possible job (version 0.0.0)."""


@version("1.0.0")
def fail(message: str = "boom") -> int:
    """Always raise, so tests can see the original error text."""
    raise ValueError(message)


@version("1.0.0")
def sleep_ms(ms: int = 50) -> int:
    """Sleep for a while: a job that takes time."""
    time.sleep(ms / 1000)
    return ms
