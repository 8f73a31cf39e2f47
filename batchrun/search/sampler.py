"""Optuna behind batchrun's search: the study, its sampler and the space as distributions.

Optuna is an optional extra; this is the only module that imports it, and a manifest
with ``search`` and no Optuna installed gets an error naming the extra. The ``gp`` strategy
(Optuna's Gaussian-process sampler) also needs PyTorch, a large download, hence an extra of
its own.
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings
from types import ModuleType
from typing import Any

from batchrun.errors import UsageError
from batchrun.manifest.search import Dimension, Search

EXTRA_HINT = "install the search extra: pip install 'batchrun[search]'"
GP_HINT = "install the gp extra: pip install 'batchrun[gp]' (PyTorch's CPU build is enough)"


def optuna() -> ModuleType:
    """The optuna module, quiet; a UsageError naming the extra when it is missing."""
    try:
        module = importlib.import_module("optuna")
    except ImportError:
        raise UsageError(f"this manifest runs a search, which needs Optuna; {EXTRA_HINT}") from None
    module.logging.set_verbosity(module.logging.WARNING)
    return module


def require(search: Search) -> None:
    """Refuse, before any platform is touched, a search whose libraries are not installed."""
    optuna()
    if search.strategy == "gp" and importlib.util.find_spec("torch") is None:
        raise UsageError(f"strategy gp fits a Gaussian process with PyTorch, which is not installed; "
                         f"{GP_HINT}, or choose another strategy")


def new_study(search: Search) -> Any:
    """An empty in-memory study with the manifest's strategy, seed and direction."""
    library = optuna()
    samplers = library.samplers
    seed = search.seed
    if search.strategy == "tpe":
        sampler = samplers.TPESampler(seed=seed)
    elif search.strategy == "gp":
        # A Gaussian process over a few hundred trials gains little from torch's thread pool,
        # whose second thread competes for the cores the local JMA's server and workers need:
        # 13 ms of overhead per trial instead of 24 on Branin (2 cores, BENCHMARKS.md).
        importlib.import_module("torch").set_num_threads(1)
        sampler = samplers.GPSampler(seed=seed, warn_independent_sampling=False)
    elif search.strategy == "random":
        sampler = samplers.RandomSampler(seed=seed)
    elif search.strategy == "cmaes":
        sampler = samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    else:
        with warnings.catch_warnings():  # experimental in Optuna, and said so on every run
            warnings.simplefilter("ignore", library.exceptions.ExperimentalWarning)
            sampler = samplers.QMCSampler(seed=seed, warn_independent_sampling=False,
                                          warn_asynchronous_seeding=False)
    return library.create_study(direction=search.objective.direction, sampler=sampler)


def distributions(search: Search) -> dict[str, Any]:
    """The space as Optuna distributions, in written order."""
    return {name: _distribution(dimension) for name, dimension in search.dimensions().items()}


def _distribution(dimension: Dimension) -> Any:
    found = optuna().distributions
    if dimension.kind == "categorical":
        return found.CategoricalDistribution(list(dimension.choices))
    if dimension.kind == "int":
        return found.IntDistribution(int(dimension.low), int(dimension.high), step=int(dimension.step or 1))
    return found.FloatDistribution(dimension.low, dimension.high, log=dimension.log, step=dimension.step)
