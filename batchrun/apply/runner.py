"""``apply`` from plan to report: confirm, prune, execute, report, clean up.

The plan decides per point; the board and the watch loop execute it; the report is then
rebuilt from the platform (the only state), so what apply writes is exactly what
``batchrun report`` would write. The report is written whatever happens: success,
failures, an unreachable platform mid-run, or Ctrl-C; when its folder cannot take it,
the results stay on the platform and ``ApplyResult.unsaved`` says how to write it later.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from batchrun.apply.board import Board, OnFailure, Point, Status, Work
from batchrun.apply.submit import Submitter
from batchrun.apply.watch import execute
from batchrun.apply.window import ReadWindow
from batchrun.cleanup import CleanupAfter, DeleteFlags, delete_jobs, jobs_to_clean
from batchrun.client import Platform, RemoteJob
from batchrun.client.folders import ensure_folder
from batchrun.errors import BatchrunError, PlatformError
from batchrun.inputs import files_to_upload, upload_files
from batchrun.manifest import Manifest
from batchrun.plan import DEFAULT_RUN, Action, Plan, PlanEntry, build_plan
from batchrun.report import Report, build_report, save_report, with_job_details
from batchrun.selectors import Selector, matches
from batchrun.states import FAILED, JobState, PointState
from batchrun.ui import Confirm, Notify, ShowProgress, refuse, unseen

_POINT_STATUS = {
    Action.CREATE: Status.QUEUED,
    Action.RERUN: Status.QUEUED,
    Action.START: Status.QUEUED,
    Action.IN_PROGRESS: Status.PENDING,
    Action.UNCHANGED: Status.UNCHANGED,
    Action.FAILED: Status.FAILED,
}


@dataclass(frozen=True)
class ApplyOptions:
    """What the command line asked for."""

    run: str = DEFAULT_RUN
    prune: bool = False
    rerun_failed: bool = False
    wait: bool = True
    only: tuple[Selector, ...] = ()
    watch_timeout: bool = True  # False when the platform enforces execution.timeout itself


@dataclass
class ApplyResult:
    """What happened, for the command to render and turn into an exit code."""

    report: Report
    paths: list[Path]
    selected: set[str]  # the keys of the points this apply worked on
    interrupted: bool = False
    problems: list[str] = field(default_factory=list)  # prune and cleanup failures
    unsaved: BatchrunError | None = None  # why the report files could not be written

    @property
    def failed(self) -> int:
        """Selected points that did not succeed: they failed, or their job could not be created
        (jobs left running with --no-wait do not count)."""
        return sum(
            1
            for row in self.report.jobs
            if row.key in self.selected and (row.state in FAILED or row.state == PointState.NOT_CREATED)
        )


def apply_manifest(
    platform: Platform,
    manifest: Manifest,
    options: ApplyOptions,
    *,
    notify: Notify,
    confirm: Confirm = refuse,
    progress: ShowProgress = unseen,
) -> ApplyResult:
    """Plan, confirm destructive parts once, execute, and always write the report.

    ``notify`` takes the notices for the user, ``confirm`` is asked once before orphans are
    deleted or points that have results are rerun, ``progress`` shows the points' counts
    while the jobs run.
    """
    plan = build_plan(
        platform, manifest, run=options.run, rerun_failed=options.rerun_failed, prune=options.prune
    )
    entries = [entry for entry in plan.entries if _selected(entry, options.only)]
    notify(_plan_line(plan, entries, options))
    doomed = [e.job for e in entries if e.action is Action.ORPHANED and options.prune and e.job]
    _confirm(doomed, entries, confirm)
    execution = manifest.execution
    flags = _delete_flags(manifest)
    problems = delete_jobs(platform, doomed, flags, threads=execution.submit, notify=notify)
    deleted = {job.url for job in doomed}
    window = ReadWindow(job for job in plan.jobs if job.url not in deleted)
    sending = [e.spec for e in entries if e.spec is not None and e.action is not Action.UNCHANGED]
    files = upload_files(platform, files_to_upload(sending), notify) if plan.input_slots else {}
    folders = {path: ensure_folder(platform, path) for path in sorted({s.folder for s in sending if s.folder})}
    board = Board(
        [_point(entry) for entry in entries if entry.spec is not None],
        max_running=execution.max_running,
        retries=execution.retries,
        timeout=execution.timeout if options.watch_timeout else None,
        on_failure=OnFailure(execution.on_failure),
    )
    interrupted = False
    crash: PlatformError | None = None
    try:
        with progress(len(board.points)) as sink:
            execute(
                board,
                platform,
                Submitter(platform, plan.step, plan.batch, plan.run, plan.input_slots, files, folders),
                window,
                threads=max(1, min(execution.submit, execution.max_running, board.queued())),
                wait=options.wait,
                progress=sink,
            )
    except KeyboardInterrupt:
        interrupted = True
        notify("interrupted: nothing more is submitted")
    except PlatformError as error:
        crash = error
    jobs = _final_jobs(platform, plan, window, board, notify)
    refused = _submit_errors(board.points)
    # The rows are made from the records; unless cleanup needs them later, each record is let
    # go once its row is made, so a large batch does not hold both (the board and the window
    # let go of theirs first).
    cleaning = options.wait and CleanupAfter(manifest.cleanup.after) is not CleanupAfter.NEVER
    window.jobs.clear()
    board.forget_jobs()
    specs = [e.spec for e in plan.entries if e.spec]
    report = build_report(manifest, plan.step, specs, jobs if cleaning else _handed_over(jobs), run=plan.run)
    if crash is None:
        report = with_job_details(platform, report, costs=manifest.report.costs)
    report = _with_submit_errors(report, refused)
    paths, unsaved = save_and_announce(report, manifest, notify)
    if crash is not None:
        if unsaved is not None:
            notify(str(unsaved))
        raise crash
    result = ApplyResult(report, paths, {p.spec.key for p in board.points}, interrupted, problems, unsaved)
    if not interrupted and options.wait:
        clean = jobs_to_clean(
            CleanupAfter(manifest.cleanup.after), jobs, result.selected, succeeded=not result.failed
        )
        result.problems += delete_jobs(platform, clean, flags, threads=execution.submit, notify=notify)
        if clean:
            notify(f"cleanup: deleted {len(clean)} finished jobs (cleanup.after: {manifest.cleanup.after})")
    return result


def save_and_announce(report: Report, manifest: Manifest, notify: Notify) -> tuple[list[Path], BatchrunError | None]:
    """Write the report's files and say where; a failure to write is returned, not raised, so
    a run that also crashed reports both."""
    try:
        paths = save_report(report, manifest)
    except BatchrunError as error:
        return [], error
    notify("wrote " + ", ".join(str(path) for path in paths))
    return paths, None


def _selected(entry: PlanEntry, selectors: Sequence[Selector]) -> bool:
    if not selectors:
        return True
    states = [entry.action.value] + ([entry.job.state] if entry.job else [])
    if entry.job is not None and entry.job.state in FAILED:
        states.append("failed")
    parameters = entry.spec.parameters if entry.spec is not None else None
    return matches(selectors, key=entry.key, states=states, parameters=parameters)


def _plan_line(plan: Plan, entries: Sequence[PlanEntry], options: ApplyOptions) -> str:
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.action.value] = counts.get(entry.action.value, 0) + 1
    parts = ", ".join(f"{count} {name}" for name, count in counts.items()) or "nothing selected"
    scope = f" ({len(entries)} of {len(plan.entries)} selected by --only)" if options.only else ""
    kept = len(plan.with_action(Action.ORPHANED)) if not options.prune else 0
    tail = f"; {kept} orphaned jobs kept (--prune deletes them)" if kept else ""
    return (
        f"batch {plan.batch!r} run {plan.run}, step {plan.step.function_name}@"
        f"{plan.step.version}: {parts}{scope}{tail}"
    )


def _confirm(doomed: Sequence[RemoteJob], entries: Sequence[PlanEntry], confirm: Confirm) -> None:
    """Ask once before deleting orphans or rerunning points that already have results."""
    overwritten = [
        e for e in entries if e.action is Action.RERUN and e.job and e.job.state == JobState.COMPLETED
    ]
    parts = []
    if doomed:
        parts.append(f"delete {len(doomed)} orphaned jobs")
    if overwritten:
        parts.append(f"rerun {len(overwritten)} points that already have results")
    if parts:
        confirm(f"apply will {' and '.join(parts)}. Continue?")


def _delete_flags(manifest: Manifest) -> DeleteFlags:
    cleanup = manifest.cleanup
    return DeleteFlags(
        output_workdata=cleanup.delete_output_workdata,
        input_workdata=cleanup.delete_input_workdata,
        subjobs_with_data=cleanup.delete_subjobs_with_data,
    )


def _point(entry: PlanEntry) -> Point:
    assert entry.spec is not None
    job = entry.job
    if entry.action in (Action.CREATE, Action.RERUN):
        return Point(entry.spec, Status.QUEUED, attempt=entry.next_attempt, job=job)
    point = Point(
        entry.spec,
        _POINT_STATUS[entry.action],
        attempt=job.attempt if job else 0,
        job=job,
        url=job.url if job else None,
        error=job.error if job and entry.action is Action.FAILED else None,
    )
    if entry.action is Action.START:
        point.work = Work.START
    return point


def _final_jobs(
    platform: Platform, plan: Plan, window: ReadWindow, board: Board, notify: Notify
) -> list[RemoteJob]:
    """The run's jobs for the report: those seen when they are still current, else a fresh
    read; what was last seen when the platform is gone."""
    window.expect(board.take_acks())
    if window.current():
        return list(window.jobs.values())
    try:
        return platform.owned_jobs(plan.batch, run=plan.run)
    except PlatformError as error:
        notify(f"the report shows what was last seen: {error}")
        return list(window.jobs.values())


def _handed_over(jobs: list[RemoteJob]) -> Iterator[RemoteJob]:
    """The jobs, the list emptied: whoever takes them holds the only reference to each."""
    queue = deque(jobs)
    jobs.clear()
    while queue:
        yield queue.popleft()


def _submit_errors(points: Sequence[Point]) -> dict[str, tuple[int, str]]:
    """The platform's refusal, by key, of each point whose job for its last attempt could not
    even be created (with that attempt)."""
    return {
        p.spec.key: (p.attempt, p.error)
        for p in points
        if p.status is Status.FAILED and p.error and (p.job is None or p.job.attempt < p.attempt)
    }


def _with_submit_errors(report: Report, errors: dict[str, tuple[int, str]]) -> Report:
    """Points whose job could not even be created keep the platform's refusal as their error."""
    if not errors:
        return report
    rows = [
        replace(row, error=errors[row.key][1])
        if row.key in errors and (row.attempt or 0) < errors[row.key][0]
        else row
        for row in report.jobs
    ]
    return report.model_copy(update={"jobs": rows})
