"""``apply`` for a search: rebuild the study from the platform, then ask, run and tell.

The platform is the study's only state. On every start the run's trials are read back
(:mod:`.trials`): finished ones are told to the sampler, unfinished ones adopted and
awaited. New trials are then asked for until the budget is used, each one the same kind of
point a grid has, submitted by the same board, submit threads and watch loop.

Exactly once: a trial *is* its job. A proposal becomes trial ``n`` only when a job tagged
``batchrun.trial=n`` exists; an ask that dies with the process before its create leaves
nothing, so the rerun asks again for the same number, and a create whose answer was lost
is resolved by looking its key up (:class:`~batchrun.apply.submit.Submitter`), never
by creating blindly. The budget is the count of trial numbers with a job, so it holds
exactly whatever moment the process is killed. A proposal equal to an existing trial (the
same key) is told that trial's result and uses no budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from batchrun.apply.board import FINAL, Board, OnFailure, Point, Status, Work
from batchrun.apply.runner import ApplyOptions, ApplyResult, save_and_announce
from batchrun.apply.submit import Submitter
from batchrun.apply.watch import execute
from batchrun.apply.window import ReadWindow
from batchrun.client import Platform, RemoteJob
from batchrun.errors import PlatformError, UsageError
from batchrun.identity import JobSpec
from batchrun.manifest import Manifest, expand_trial
from batchrun.search.history import search_report
from batchrun.search.objective import Measured, measure
from batchrun.search.sampler import distributions, new_study, optuna, require
from batchrun.search.trials import FRESH_STUDY, Trial, read_trials
from batchrun.states import NOT_STARTED
from batchrun.steps import resolve_step
from batchrun.ui import Notify, ShowProgress, unseen

MAX_REPEATS = 100
"""Proposals in a row equal to trials already made before the space counts as exhausted."""


@dataclass
class _Flight:
    """A trial whose job runs, and every sampler trial waiting for its result."""

    point: Point
    asked: list[Any] = field(default_factory=list)


class SearchLoop:
    """The sampler and the board of one apply: tells what finished, asks what the budget allows."""

    def __init__(self, manifest: Manifest, version: str, board: Board, notify: Notify) -> None:
        search = manifest.search
        assert search is not None
        self.manifest, self.version, self.board, self.notify = manifest, version, board, notify
        self.search = search
        self.study = new_study(search)
        self.distributions = distributions(search)
        self.numbers: set[int] = set()  # trial numbers that have (or are getting) a job
        self.finished: dict[str, Measured] = {}  # key → the objective of a finished trial
        self.flights: dict[str, _Flight] = {}  # key → a trial in flight
        self.repeats = 0
        self.exhausted = False

    # -- rebuilding ------------------------------------------------------------------------

    def rebuild(self, trials: list[Trial]) -> None:
        """Tell the finished trials, adopt the others onto the board (by trial number)."""
        library = optuna()
        for trial in trials:
            self.numbers.add(trial.number)
            point = {name: trial.spec.parameters[name] for name in self.search.space}
            if trial.finished:
                measured = trial.measured(self.search.objective.result)
                self.finished[trial.spec.key] = measured
                try:
                    self.study.add_trial(library.trial.create_trial(
                        params=point, distributions=self.distributions, value=measured.value,
                        state=library.trial.TrialState.COMPLETE if measured.value is not None
                        else library.trial.TrialState.FAIL,
                    ))
                except ValueError:
                    raise UsageError(f"trial {trial.number} ({trial.job.url}) lies outside search.space "
                                     f"(the space changed); {FRESH_STUDY}") from None
                continue
            self.study.enqueue_trial(point, skip_if_exists=False)
            adopted = _adopted(trial.spec, trial.job)
            self.flights[trial.spec.key] = _Flight(adopted, [self.study.ask(self.distributions)])
            self.board.add(adopted)

    # -- telling and asking ------------------------------------------------------------------

    def after_read(self) -> None:
        """Tell the trials that finished, then fill the free places (the watch loop calls this)."""
        for key, flight in list(self.flights.items()):
            if flight.point.status in FINAL:
                measured = self._measured(flight.point)
                self.finished[key] = measured
                for asked in flight.asked:
                    self._tell(asked, measured)
                del self.flights[key]
        self.propose()

    def propose(self) -> None:
        """Ask for trials while fewer than ``parallel`` are in flight and budget is left."""
        while (
            not self.exhausted and not self.board.stopping
            and len(self.flights) < self.search.parallel and len(self.numbers) < self.search.budget
        ):
            asked = self.study.ask(self.distributions)
            number = min(set(range(len(self.numbers) + 1)) - self.numbers)
            spec = expand_trial(self.manifest, number, {name: asked.params[name] for name in self.search.space},
                                step_version=self.version)
            if spec.key in self.finished:
                self._tell(asked, self.finished[spec.key])
                self._repeated()
            elif spec.key in self.flights:
                self.flights[spec.key].asked.append(asked)
                self._repeated()
            else:
                self.repeats = 0
                self.numbers.add(number)
                point = Point(spec, Status.QUEUED, attempt=1)
                self.flights[spec.key] = _Flight(point, [asked])
                self.board.add(point)

    def _repeated(self) -> None:
        self.repeats += 1
        if self.repeats >= MAX_REPEATS:
            self.exhausted = True
            self.notify(f"the sampler proposed only points already tried, {MAX_REPEATS} times in a row: the "
                        f"space looks exhausted after {len(self.numbers)} of {self.search.budget} trials")

    def _measured(self, point: Point) -> Measured:
        job = point.job
        if point.status is Status.COMPLETED and job is not None:
            return measure(job.result, self.search.objective.result)
        return Measured(None, point.error or "the trial did not complete")

    def _tell(self, asked: Any, measured: Measured) -> None:
        if measured.value is None:
            self.study.tell(asked, state=optuna().trial.TrialState.FAIL)
        else:
            self.study.tell(asked, measured.value)


def _adopted(spec: JobSpec, job: RemoteJob) -> Point:
    """The board's point for a trial whose job exists but has not finished."""
    point = Point(spec, Status.PENDING, attempt=job.attempt, job=job, url=job.url)
    if job.state in NOT_STARTED:
        point.status, point.work = Status.QUEUED, Work.START
    return point


def check_options(options: ApplyOptions) -> None:
    """Options that pick points of a grid mean nothing to a search: refused, not ignored."""
    for given, flag in ((options.only, "--only"), (options.rerun_failed, "--rerun-failed"), (options.prune, "--prune")):
        if given:
            raise UsageError(f"{flag} works on the points of a grid; a search decides its own trials "
                             "(failed ones count against its budget). Run without it")


def apply_search(
    platform: Platform,
    manifest: Manifest,
    options: ApplyOptions,
    *,
    notify: Notify,
    progress: ShowProgress = unseen,
) -> ApplyResult:
    """Rebuild the study, run trials until the budget is used, and always write the report."""
    search = manifest.search
    assert search is not None
    check_options(options)
    require(search)  # before anything is read: a missing extra is a usage error
    step = resolve_step(platform, manifest.step.function, manifest.step.version)
    jobs = platform.owned_jobs(manifest.batch, run=options.run)
    trials = read_trials(manifest, step.version, jobs)
    execution = manifest.execution
    board = Board([], max_running=search.parallel, retries=execution.retries,
                  timeout=execution.timeout if options.watch_timeout else None,
                  on_failure=OnFailure(execution.on_failure))
    loop = SearchLoop(manifest, step.version, board, notify)
    loop.rebuild(trials)
    done = sum(trial.finished for trial in trials)
    notify(f"batch {manifest.batch!r} run {options.run}, step {step.function_name}@{step.version}: search "
           f"({search.strategy}), {done} trials finished, {len(trials) - done} running, "
           f"{search.budget - len(trials)} of {search.budget} left")
    loop.propose()
    interrupted = False
    crash: PlatformError | None = None
    window = ReadWindow(jobs)
    try:
        with progress(search.budget) as sink:
            execute(board, platform, Submitter(platform, step, manifest.batch, options.run), window,
                    threads=min(execution.submit, search.parallel), wait=options.wait, progress=sink,
                    # --no-wait submits the first trials only: later ones need results to be asked for
                    after_read=loop.after_read if options.wait else None)
    except KeyboardInterrupt:
        interrupted = True
        notify("interrupted: no more trials are asked for")
    except PlatformError as error:
        crash = error
    final = _final_jobs(platform, manifest, options.run, window, notify)
    report = search_report(manifest, step, read_trials(manifest, step.version, final), run=options.run)
    paths, unsaved = save_and_announce(report, manifest, notify)
    if crash is not None:
        raise crash
    return ApplyResult(report, paths, {row.key for row in report.jobs}, interrupted, [], unsaved)


def _final_jobs(platform: Platform, manifest: Manifest, run: str, window: ReadWindow,
                notify: Notify) -> list[RemoteJob]:
    try:
        return platform.owned_jobs(manifest.batch, run=run)
    except PlatformError as error:
        notify(f"the report shows what was last seen: {error}")
        return list(window.jobs.values())

