"""Adaptive search: each trial a platform job, the study rebuilt from the platform on every
start (:mod:`.driver`), its report with the best trial first and the history (:mod:`.history`)."""

from batchrun.search.driver import apply_search
from batchrun.search.history import search_report
from batchrun.search.trials import Trial, read_trials

__all__ = ["Trial", "apply_search", "read_trials", "search_report"]
