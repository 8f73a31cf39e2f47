"""Steps for manifests/sweep.yaml: a stand-in for model training that runs in milliseconds."""

import math

from batchrun import version


@version("1.0.0")
def train(lr: float, depth: int, optimizer: str, momentum: float, epochs: int, seed: int) -> dict[str, float]:
    """Pretend to train a model and report its final loss.

    The loss is a smooth, deterministic function of the hyperparameters, so reruns agree.

    :param lr: learning rate
    :param depth: number of layers
    :param optimizer: "sgd" or "adam"
    :param momentum: momentum of sgd (ignored by adam)
    :param epochs: passes over the data
    :param seed: random seed (kept for the record; the loss is deterministic)
    :returns: the final loss and the number of parameters
    """
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"unknown optimizer {optimizer!r}; use sgd or adam")
    speed = lr * (1.0 + momentum) * (3.0 if optimizer == "adam" else 1.0)
    loss = math.exp(-speed * epochs) + 0.01 * abs(depth - 6) + (0.5 if lr > 0.3 else 0.0)
    return {"loss": round(loss, 6), "parameters": float(depth * 1024)}
