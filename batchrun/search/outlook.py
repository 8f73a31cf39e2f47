"""What ``plan`` says of a search: trials done, running and left, and the best so far.

Read from the platform alone, with no sampler: what the next trials will be depends on
results not in yet, so a search plan counts them instead of listing them.
"""

from __future__ import annotations

from dataclasses import dataclass

from batchrun.client import Platform
from batchrun.manifest import Manifest
from batchrun.report.model import SearchSummary
from batchrun.search.history import summarize
from batchrun.search.trials import read_trials
from batchrun.steps import resolve_step


@dataclass(frozen=True)
class SearchOutlook:
    """A search run as apply would find it."""

    batch: str
    run: str
    step: str  # function@version
    finished: int
    failed: int  # finished without a value (counted against the budget)
    running: int  # adopted and awaited by apply
    left: int  # trials apply would still ask for
    summary: SearchSummary

    @property
    def changes(self) -> bool:
        """Whether apply would create (or wait for) anything."""
        return bool(self.left or self.running)

    def line(self) -> str:
        search = self.summary
        best = (f"best so far trial {search.best_trial}: {search.objective} = {search.best_value:.6g}"
                if search.best_trial is not None and search.best_value is not None else "no best yet")
        return (f"batch {self.batch!r} run {self.run}, step {self.step}: search ({search.strategy}, "
                f"{search.direction} {search.objective}), {self.finished} trials finished ({self.failed} failed), "
                f"{self.running} running to adopt, {self.left} of {search.budget} to ask for; {best}")


def search_outlook(platform: Platform, manifest: Manifest, *, run: str) -> SearchOutlook:
    """Read the run's trials and count what apply would do."""
    assert manifest.search is not None
    step = resolve_step(platform, manifest.step.function, manifest.step.version)
    trials = read_trials(manifest, step.version, platform.owned_jobs(manifest.batch, run=run))
    summary = summarize(manifest, trials)
    finished = [trial for trial in trials if trial.finished]
    return SearchOutlook(
        batch=manifest.batch, run=run, step=f"{step.function_name}@{step.version}",
        finished=len(finished), failed=sum(entry.value is None for entry in summary.history),
        running=len(trials) - len(finished), left=max(manifest.search.budget - len(trials), 0), summary=summary,
    )
