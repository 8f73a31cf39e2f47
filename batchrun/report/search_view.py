"""A search's summary as people read it, shared by the Markdown and HTML reports: the best
trial in one line and the optimisation history as rows of text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from batchrun.report.model import Report

HISTORY_COLUMNS = ("trial", "name", "value", "best", "completed_at", "error")


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def search_headline(report: Report) -> str:
    """The best trial of a search in one line (the report's rows start with it)."""
    search = report.search
    assert search is not None
    used = f"{search.trials} of {search.budget} trials ({search.strategy})"
    if search.best_trial is None:
        return f"Search: {used}; no trial has a value for {search.objective!r} yet."
    name = next((job.name for job in report.jobs if job.index == search.best_trial), "")
    return (f"Search: {used}; best trial {search.best_trial} ({name}): "
            f"{search.objective} = {_number(search.best_value)} ({search.direction}).")


def history_rows(report: Report, text: Callable[[Any], str]) -> list[list[str]]:
    """The history in the order results arrived, each value as ``text`` writes it."""
    assert report.search is not None
    return [[text(getattr(entry, column)) for column in HISTORY_COLUMNS] for entry in report.search.history]
