"""A step with a bug: dividing by zero fails (fixed in apply_divide_v2.py)."""

from batchrun import version


@version("1.0.0")
def divide(a: float, b: float) -> float:
    """Divide a by b."""
    return a / b
