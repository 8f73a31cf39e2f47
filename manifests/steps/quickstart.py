"""Steps for manifests/quickstart.yaml: the smallest useful sweep."""

from batchrun import version


@version("1.0.0")
def power(base: float, exponent: int = 2) -> float:
    """Raise a number to a power.

    :param base: the number
    :param exponent: the power to raise it to
    :returns: base ** exponent
    """
    return base**exponent
