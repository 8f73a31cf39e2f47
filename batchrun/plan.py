"""Job specs × the jobs the platform already has → a plan, each entry with a reason.

The platform is the only state: ``plan`` lists the batch's jobs by tag (paged, never one
request per job) and decides per point what ``apply`` would do. Building a plan makes no
mutating call, so ``plan`` is safe against any endpoint.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from batchrun.client import Platform, RemoteJob, StepInfo
from batchrun.client.uploads import InputSlotSpec
from batchrun.collector import paused
from batchrun.errors import UsageError
from batchrun.identity import JobSpec, canonical_json
from batchrun.immutable import immutable
from batchrun.inputs import bind_inputs, changed_slots
from batchrun.manifest import Manifest, expand
from batchrun.nesting import dotted
from batchrun.parameters import ParameterCheck
from batchrun.states import ACTIVE, NOT_STARTED, JobState
from batchrun.steps import resolve_step

DEFAULT_RUN = "1"
MAX_PARAMETER_ERRORS = 20
ERROR_EXCERPT = 200



class Action(StrEnum):
    """What ``apply`` does with a point (or, for ``orphaned``, with a job)."""

    CREATE = "create"
    UNCHANGED = "unchanged"
    IN_PROGRESS = "in-progress"
    START = "start"
    RERUN = "rerun"
    FAILED = "failed"
    ORPHANED = "orphaned"


@immutable
class PlanEntry:
    """One decision: a manifest point (``spec``) and/or an existing job (``job``)."""

    action: Action
    reason: str
    spec: JobSpec | None  # None for an orphaned job
    job: RemoteJob | None  # the newest attempt; None when no job exists

    @property
    def key(self) -> str | None:
        return self.spec.key if self.spec is not None else self.job.key if self.job else None

    @property
    def name(self) -> str:
        return self.spec.name if self.spec is not None else self.job.name if self.job else ""

    @property
    def next_attempt(self) -> int:
        """The attempt number a new job for this point gets."""
        return self.job.attempt + 1 if self.job is not None else 1


@dataclass(frozen=True)
class Plan:
    """The decisions for one batch and run, in manifest order, orphaned jobs last."""

    batch: str
    run: str
    step: StepInfo
    entries: tuple[PlanEntry, ...]
    prune: bool = False
    jobs: tuple[RemoteJob, ...] = ()  # every job of the batch and run, as the plan read them
    input_slots: tuple[InputSlotSpec, ...] = ()  # the step's input data slots, when the manifest binds any

    def with_action(self, action: Action) -> list[PlanEntry]:
        return [entry for entry in self.entries if entry.action is action]

    def counts(self) -> dict[str, int]:
        """Entries per action, every action listed (zeros too) in a fixed order."""
        totals = {action.value: 0 for action in Action}
        for entry in self.entries:
            totals[entry.action.value] += 1
        return totals

    def varying_parameters(self) -> list[str]:
        """The parameters (dotted paths into nested ones) whose value differs between the
        batch's points, in first-seen order: what tells the entries apart; the others only
        repeat the manifest."""
        return varying([entry.spec.parameters for entry in self.entries if entry.spec is not None])

    def changes(self) -> list[PlanEntry]:
        """What apply would send: creates, starts, reruns, and with ``prune`` the deletions."""
        changing = {Action.CREATE, Action.START, Action.RERUN}
        if self.prune:
            changing.add(Action.ORPHANED)
        return [entry for entry in self.entries if entry.action in changing]


def varying(points: Sequence[dict[str, Any]]) -> list[str]:
    """Dotted parameter paths not equal (as canonical JSON) in every point, or absent from some."""
    first: dict[str, str] = {}
    seen: dict[str, int] = {}
    differ: set[str] = set()
    for point in points:
        for path, value in flat_parameters(point).items():
            text = canonical_json(value)
            if first.setdefault(path, text) != text:
                differ.add(path)
            seen[path] = seen.get(path, 0) + 1
    return [path for path in first if path in differ or seen[path] < len(points)]


def flat_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """A point's parameters one level deep, nested ones by dotted path (``opt.lr``)."""
    return {path: value for name, item in parameters.items() for path, value in dotted(name, item).items()}


def build_plan(
    platform: Platform,
    manifest: Manifest,
    *,
    run: str = DEFAULT_RUN,
    rerun_failed: bool = False,
    prune: bool = False,
) -> Plan:
    """Resolve the step, expand and validate every point, list the batch's jobs, classify."""
    step = resolve_step(platform, manifest.step.function, manifest.step.version)
    specs, slots = bind_inputs(platform, manifest, step, expand(manifest, step_version=step.version))
    check_parameters(specs, step)
    jobs = platform.owned_jobs(manifest.batch, run=run)
    entries = explain_inputs(classify(specs, jobs, rerun_failed=rerun_failed, prune=prune))
    return Plan(
        batch=manifest.batch, run=run, step=step, entries=tuple(entries), prune=prune, jobs=tuple(jobs),
        input_slots=slots,
    )


def resolve_points(platform: Platform, manifest: Manifest) -> tuple[StepInfo, list[JobSpec]]:
    """The step as the platform has it, and the points expanded with its real version (their
    input slots checked against it and tag queries resolved)."""
    step = resolve_step(platform, manifest.step.function, manifest.step.version)
    specs, _ = bind_inputs(platform, manifest, step, expand(manifest, step_version=step.version))
    return step, specs


def explain_inputs(entries: list[PlanEntry]) -> list[PlanEntry]:
    """A new point whose inputs changed since an old job of it ran says which slots changed,
    and that old job (no longer in the manifest, so orphaned) says what replaced it."""
    orphans = [entry.job for entry in entries if entry.action is Action.ORPHANED and entry.job is not None]
    if not orphans:
        return entries
    replaced: dict[str, str] = {}
    explained = []
    for entry in entries:
        spec = entry.spec
        if entry.action is Action.CREATE and spec is not None and spec.inputs:
            candidates = [
                (len(slots), job.url, slots)
                for job in orphans
                if job.url not in replaced and (slots := changed_slots(spec, job.tags)) is not None
            ]
            if candidates:
                _, url, slots = min(candidates)
                if slots:
                    listed = ", ".join(repr(slot) for slot in slots)
                    plural = "s" if len(slots) > 1 else ""
                    replaced[url] = f"its input{plural} {listed} changed: point {spec.name!r} replaces it"
                    entry = PlanEntry(
                        Action.CREATE, f"input{plural} {listed} changed since the point last ran", spec, None
                    )
        explained.append(entry)
    return [
        PlanEntry(entry.action, f"{replaced[entry.job.url]} ({entry.reason.split('(', 1)[-1]}", None, entry.job)
        if entry.action is Action.ORPHANED and entry.job is not None and entry.job.url in replaced
        else entry
        for entry in explained
    ]


def check_parameters(specs: Sequence[JobSpec], step: StepInfo) -> None:
    """Refuse the whole batch when any point's parameters do not fit the step's schema."""
    check = ParameterCheck(step.parameter_schema)
    problems: list[str] = []
    failing = 0
    for spec in specs:
        errors = check.errors(spec.parameters)
        if errors:
            failing += 1
            if len(problems) < MAX_PARAMETER_ERRORS:
                problems.append(f"  point {spec.index} ({spec.name}): " + "; ".join(errors))
    if failing:
        more = failing - len(problems)
        tail = [f"  ... and {more} more points"] if more > 0 else []
        raise UsageError(
            f"{failing} of {len(specs)} points do not match the parameters of "
            f"{step.function_name}@{step.version}; nothing was sent:\n"
            + "\n".join(problems + tail)
            + "\nfix the manifest's parameters or grid (or pin another step.version)"
        )


def newest(jobs: Sequence[RemoteJob]) -> RemoteJob:
    """The attempt that counts: the highest attempt number, then the latest created."""
    if len(jobs) == 1:  # nearly every point: one attempt, one job
        return jobs[0]
    return max(jobs, key=lambda job: (job.attempt, job.created_at or _EARLIEST))


_EARLIEST = datetime.min.replace(tzinfo=UTC)


def classify(
    specs: Sequence[JobSpec],
    jobs: Sequence[RemoteJob],
    *,
    rerun_failed: bool = False,
    prune: bool = False,
) -> list[PlanEntry]:
    """Decide per point from the jobs of its key (newest attempt counts); leftovers are orphaned.

    A point with two jobs for one attempt (applies on two machines at once share no lock)
    keeps the newest; the others are orphaned duplicates, so ``apply --prune`` deletes them.
    """
    by_key = jobs_by_key(jobs)
    with paused():  # the entries are kept: the collector would only walk them again and again
        entries = [_decide(spec, by_key.get(spec.key), rerun_failed) for spec in specs]
    wanted = {spec.key for spec in specs}
    fate = "apply --prune deletes it" if prune else "kept; apply --prune deletes it"
    for key, leftovers in by_key.items():
        if key in wanted:
            if len(leftovers) == 1:  # nearly every point: its one job, no duplicate
                continue
            for job, kept in duplicates(leftovers):
                reason = f"a duplicate of {kept.url} (same point and attempt, e.g. from concurrent applies; {fate})"
                entries.append(PlanEntry(Action.ORPHANED, reason, None, job))
            continue
        for job in leftovers:
            entries.append(
                PlanEntry(Action.ORPHANED, f"owned by the batch but not in the manifest ({fate})", None, job)
            )
    return entries


def jobs_by_key(jobs: Iterable[RemoteJob]) -> dict[str | None, tuple[RemoteJob, ...]]:
    """The jobs of each point key, in the order read. Tuples: nearly every point has one job,
    and a tuple of one is half the size of a list of one (100,000 of them in a large batch)."""
    by_key: dict[str | None, tuple[RemoteJob, ...]] = {}
    with paused():  # kept: a collection would walk every record once more for nothing
        for job in jobs:
            key = job.key
            earlier = by_key.get(key)
            by_key[key] = (job,) if earlier is None else (*earlier, job)
    return by_key


def duplicates(attempts: Iterable[RemoteJob]) -> list[tuple[RemoteJob, RemoteJob]]:
    """(extra job, the job kept) for every attempt of one point that has more than one job."""
    by_attempt: dict[int, list[RemoteJob]] = defaultdict(list)
    for job in attempts:
        by_attempt[job.attempt].append(job)
    pairs = []
    for same in by_attempt.values():
        kept = newest(same)
        pairs += [(job, kept) for job in same if job is not kept]
    return pairs


def _decide(spec: JobSpec, attempts: Sequence[RemoteJob] | None, rerun_failed: bool) -> PlanEntry:
    if not attempts:
        return PlanEntry(Action.CREATE, "no job for this point yet", spec, None)
    job = newest(attempts)
    label = f"attempt {job.attempt}" if job.attempt > 1 else "the job"
    if job.spec != spec.spec:
        return PlanEntry(
            Action.RERUN,
            _held_once(f"the spec changed (revision or step settings) since {label} ran ({job.state})"),
            spec,
            job,
        )
    if job.state == JobState.COMPLETED:
        return PlanEntry(Action.UNCHANGED, _held_once(f"{label} completed"), spec, job)
    if job.state in ACTIVE:
        return PlanEntry(Action.IN_PROGRESS, _held_once(f"{label} is {job.state}: adopt and wait"), spec, job)
    if job.state in NOT_STARTED:
        return PlanEntry(Action.START, _held_once(f"{label} was created but never started"), spec, job)
    if job.finished:
        why = f"{label} ended {job.state}" + (f": {excerpt(job.error)}" if job.error else "")
        if rerun_failed:
            return PlanEntry(Action.RERUN, f"{why} (--rerun-failed)", spec, job)
        return PlanEntry(Action.FAILED, f"{why} (rerun with --rerun-failed)", spec, job)
    return PlanEntry(Action.IN_PROGRESS, f"{label} is {job.state}: adopt and wait", spec, job)


def _held_once(reason: str) -> str:
    """A reason made only of a label and a state, held once: 100,000 unchanged points give
    the same one 100,000 times."""
    return sys.intern(reason)


def excerpt(text: str | None, limit: int = ERROR_EXCERPT) -> str:
    """The gist of an error: its last non-empty line (tracebacks end with the message), cut."""
    if not text:
        return ""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    gist = lines[-1] if lines else ""
    return gist if len(gist) <= limit else gist[: limit - 1] + "…"

