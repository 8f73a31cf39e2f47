"""Steps for manifests/failing.yaml: one point divides by zero on purpose."""

from batchrun import version


@version("1.0.0")
def divide(numerator: float, denominator: float) -> float:
    """Divide two numbers; a zero denominator fails the job with ZeroDivisionError.

    :param numerator: the dividend
    :param denominator: the divisor
    :returns: numerator / denominator
    """
    return numerator / denominator
