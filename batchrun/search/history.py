"""A search's report: one row per trial, the best first, and the optimisation history.

Computed from the trials the platform holds (never from what one apply remembers), so
``apply``, ``report`` and ``status`` agree. The history is in the order results arrived
(the jobs' completion times): with ``parallel > 1`` that order decided the proposals.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from batchrun.client import StepInfo
from batchrun.manifest import Manifest
from batchrun.report.model import HistoryEntry, Report, SearchSummary, build_report
from batchrun.search.trials import Trial

EARLIEST = datetime.min.replace(tzinfo=UTC)


def search_report(manifest: Manifest, step: StepInfo, trials: list[Trial], *, run: str) -> Report:
    """The report of a search run: rows by trial with the best trial first, plus its summary."""
    summary = summarize(manifest, trials)
    report = build_report(manifest, step, [trial.spec for trial in trials], [trial.job for trial in trials], run=run)
    errors = {entry.trial: entry.error for entry in summary.history if entry.error}
    rows = [replace(row, error=errors[row.index]) if row.index in errors else row
            for row in report.jobs]
    rows.sort(key=lambda row: row.index != summary.best_trial)  # stable: the rest stay in trial order
    return report.model_copy(update={"jobs": rows, "search": summary})


def summarize(manifest: Manifest, trials: list[Trial]) -> SearchSummary:
    """The best trial and the history of finished trials in the order they finished."""
    search = manifest.search
    assert search is not None
    objective = search.objective
    better = min if objective.direction == "minimize" else max
    finished = sorted((t for t in trials if t.finished), key=lambda t: (t.job.completed_at or EARLIEST, t.number))
    history: list[HistoryEntry] = []
    best: tuple[float, int] | None = None
    for trial in finished:
        measured = trial.measured(objective.result)
        if measured.value is not None and (best is None or better(measured.value, best[0]) != best[0]):
            best = (measured.value, trial.number)
        history.append(HistoryEntry(
            trial=trial.number, name=trial.spec.name, value=measured.value, best=best[0] if best else None,
            completed_at=trial.job.completed_at, error=measured.error if measured.value is None else None,
        ))
    return SearchSummary(
        strategy=search.strategy, objective=objective.result, direction=objective.direction,
        budget=search.budget, trials=len(trials),
        best_trial=best[1] if best else None, best_value=best[0] if best else None, history=history,
    )
