"""A step for the HTML report tests: a dict of numbers, and a failure on one optimizer."""

import math

from batchrun import version


@version("1.0.0")
def score(lr: float, depth: int, momentum: float, optimizer: str) -> dict[str, float]:
    """A smooth, deterministic loss; the optimizer 'broken' fails with hostile error text.

    :param lr: learning rate
    :param depth: layers
    :param momentum: momentum
    :param optimizer: a name; 'broken' raises
    :returns: loss and size
    """
    if optimizer == "broken":
        raise ValueError("</script><!-- <b>bad</b> optimizer <img src=x onerror=alert(2)>")
    loss = math.exp(-lr * 10 * (1 + momentum)) + 0.01 * abs(depth - 4)
    return {"loss": round(loss, 6), "size": float(depth * 100)}
