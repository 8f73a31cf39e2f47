"""The fixed step: a zero divisor gives 0 instead of an error, under a new version."""

from batchrun import version


@version("1.1.0")
def divide(a: float, b: float) -> float:
    """Divide a by b; 0 when b is 0."""
    return a / b if b else 0.0
