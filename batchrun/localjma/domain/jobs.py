"""Job operations: create, configure, start, edit, delete, and the workers' reports.

Every change commits in one transaction together with its event-log line and is
published (to the event stream) only after the commit, so a waiter woken by an event
always reads the new state. Offers go to the workers after the commit too, so a worker's
report that it started a job always finds the job ``Pending``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol

from batchrun.localjma.domain.actions import for_action
from batchrun.localjma.domain.errors import Conflict, Invalid, NotFound
from batchrun.localjma.domain.lifecycle import (
    JOB_ACTIONS,
    SLOT_ACTIONS,
    blocker,
    configured_parameters,
    configured_state,
    slot_blocker,
)
from batchrun.localjma.domain.slot_declarations import (
    SlotContents,
    input_slot,
    input_slots,
    missing_inputs,
    output_slots,
    too_many,
)
from batchrun.localjma.domain.steps import StepRegistry, step_key
from batchrun.localjma.domain.values import load_json, resource_id, tag_list
from batchrun.localjma.domain.workdata import DEFAULT_MEDIA_TYPE, MAX_NAME_LENGTH, checked_media_type, workdata_event
from batchrun.localjma.store.database import Store
from batchrun.localjma.store.rows import (
    AT_ROOT,
    Filing,
    JobProgress,
    JobRow,
    LogLine,
    SampleRow,
    StepRow,
    StoredEvent,
    UsageRow,
    WorkDataRow,
    epoch_as_stored_time,
    utc_now,
)
from batchrun.parameters import parameter_errors
from batchrun.states import ACTIVE, JobState

Offer = Callable[[JobRow, StepRow], None]
Publish = Callable[[Sequence[StoredEvent]], None]
REQUEUED_EVENT = "Requeued"
_ACTIVE = tuple(ACTIVE)


@dataclass(frozen=True)
class JobSetup:
    """A job to create, configure, tag and (unless ``start`` is false) start in one go.

    ``parameters`` is JSON text; ``inputs`` holds the WorkData URLs per input slot index.
    """

    name: str
    step_url: str
    parent_url: str | None = None
    tags: Sequence[str] | None = None
    parameters: str | None = None
    output_deletable: bool = False
    inputs: Mapping[int, Sequence[str]] = field(default_factory=dict)
    start: bool = True


class WrittenOutput(Protocol):
    """A file a running job finished writing to one of its output slots, as the workers report it."""

    @property
    def job_id(self) -> str: ...
    @property
    def slot_index(self) -> int: ...
    @property
    def workdata_id(self) -> str: ...
    @property
    def filename(self) -> str: ...
    @property
    def media_type(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def tags(self) -> Sequence[str]: ...
    @property
    def comment(self) -> str | None: ...


def _event(event_type: str, job: JobRow, detail: str | None = None) -> StoredEvent:
    return StoredEvent(event_type, job.id, job.state, time.time(), detail)


def no_implementation(step: StepRow) -> str:
    source = step.source or "<file>"
    return (
        f"no local implementation of {step_key(step.function_name, step.version)}: "
        f"start the server with --steps {source}"
    )


def _check_parameters(step: StepRow, parameters: Any) -> dict[str, Any]:
    if not isinstance(parameters, dict):
        raise Invalid("parameters must be a JSON object of parameter names and values")
    errors = parameter_errors(step.manifest.get("parameters"), parameters)
    if errors:
        raise Invalid(
            f"invalid parameters for {step_key(step.function_name, step.version)}: {'; '.join(errors)}", errors
        )
    return parameters


class JobService:
    """The operations behind the Job and JobsRoot actions.

    ``publish`` announces committed events; ``offer`` (set once workers run) hands a job that
    was started to them.
    """

    def __init__(self, store: Store, registry: StepRegistry, publish: Publish, offer: Offer | None = None) -> None:
        self.store = store
        self.registry = registry
        self.publish = publish
        self.offer = offer

    def get(self, job_id: str) -> JobRow:
        job = self.store.job(job_id)
        if job is None:
            raise NotFound(f"job {job_id}")
        return job

    def slot_contents(self, job: JobRow, step: StepRow | None) -> SlotContents:
        """What a job's slots hold; nothing is read for jobs whose step has no slots."""
        if not input_slots(step) and not output_slots(step):
            return SlotContents()
        return SlotContents(self.store.job_inputs(job), self.store.job_outputs(job.id))

    def _step(self, url: str, field: str) -> StepRow:
        step = self.registry.get(resource_id(url, "ProcessingStep", field))
        if step is None:
            raise Invalid(f"{field}: no processing step at {url}; query the processing steps for a valid URL")
        return step

    def _parent(self, url: str | None) -> JobRow | None:
        if url is None:
            return None
        parent = self.store.job(resource_id(url, "Job", "ParentJobUrl"))
        if parent is None:
            raise Invalid(f"ParentJobUrl: no job at {url}")
        return parent

    def _commit_new(
        self, job: JobRow, parent: JobRow | None, started: bool, inputs: dict[int, list[str]] | None = None
    ) -> JobRow:
        with self.store.transaction():
            job = self.store.insert_job(job)
            for index, workdata_ids in (inputs or {}).items():
                self.store.select_inputs(job, index, workdata_ids)
            if parent is not None:
                self.store.adjust_children(parent.id, 1)
            events = [_event("Created", job, job.name)]
            self.store.log_events(events)
            self.store.after_commit(partial(self._announce, job, events, started))
        return job

    def _announce(self, job: JobRow, events: Sequence[StoredEvent], started: bool) -> None:
        """A new job is committed: its events go out, and the workers get it when it was started."""
        self.publish(events)
        if started:
            self._offer(job)

    def create(
        self, name: str, parent_url: str | None = None, filing: Filing = AT_ROOT, inherit_folder: bool = False
    ) -> JobRow:
        """A new job filed as ``filing`` says, or (``inherit_folder``) in its parent's folder."""
        parent = self._parent(parent_url)
        if inherit_folder and parent is not None:
            filing = Filing(parent.folder_id, parent.folder_path)
        job = JobRow(
            0, str(uuid.uuid4()), name, JobState.CREATED, parent_id=None if parent is None else parent.id,
            created_at=utc_now(), folder_id=filing.folder_id, folder_path=filing.folder_path,
        )
        return self._commit_new(job, parent, started=False)

    def rapid_setup(self, setup: JobSetup) -> JobRow:
        """Create, select, configure, tag and (by default) start a job in one call."""
        step = self._step(setup.step_url, "ProcessingStepUrl")
        parent = self._parent(setup.parent_url)
        inputs = self._inputs(step, setup.inputs)
        selected = {index: len(workdata_ids) for index, workdata_ids in inputs.items()}
        if setup.start and missing_inputs(step, selected):
            raise Invalid(f"InputDataSlots: {'; '.join(missing_inputs(step, selected))}")
        parameters: dict[str, Any] | None = None
        if setup.parameters is not None:
            try:
                parsed = load_json(setup.parameters) if setup.parameters.strip() else {}
            except ValueError as error:
                raise Invalid(f"Parameters must be JSON text of an object ({error})") from None
            parameters = _check_parameters(step, parsed)
        elif setup.start:
            _check_parameters(step, {})
        state = configured_state(step, parameters, selected)
        now = utc_now()
        job = JobRow(
            0, str(uuid.uuid4()), setup.name, state, step_id=step.id,
            parameters=None if parameters is None else json.dumps(parameters),
            tags=tag_list(setup.tags), output_deletable=setup.output_deletable,
            parent_id=None if parent is None else parent.id, created_at=now,
        )
        if setup.start:
            job = self._started(job, step, now)
        return self._commit_new(job, parent, started=job.state == JobState.PENDING, inputs=inputs)

    def _inputs(self, step: StepRow, chosen: Mapping[int, Sequence[str]]) -> dict[int, list[str]]:
        """WorkData ids per input slot index, from WorkData URLs; Invalid unless they all fit."""
        slots = input_slots(step)
        resolved: dict[int, list[str]] = {}
        for index, urls in chosen.items():
            if not 0 <= index < len(slots):
                raise Invalid(f"input data slot {index} does not exist: the step has {len(slots)} input slot(s)")
            reason = too_many(slots[index], len(urls))
            if reason is not None:
                raise Invalid(reason)
            resolved[index] = [resource_id(url, "WorkData", "WorkDataUrl") for url in urls]
            for url, workdata_id in zip(urls, resolved[index], strict=True):
                if self.store.workdata(workdata_id) is None:
                    raise Invalid(f"WorkDataUrl: no WorkData at {url}")
        return resolved

    def _input_counts(self, job: JobRow) -> dict[int, int]:
        return {index: len(rows) for index, rows in self.store.job_inputs(job).items()}

    def for_input_action(self, job_id: str, index: int, action: str) -> JobRow:
        """The job, once ``action`` is an input data slot action its slot ``index`` allows now."""
        if action not in SLOT_ACTIONS:
            raise NotFound(f"action {action!r} on input data slots")
        job = self.get(job_id)
        slot = input_slot(self.registry.get(job.step_id), index)
        reason = slot_blocker(job, slot, self._input_counts(job).get(index, 0), action)
        if reason is not None:
            raise Conflict(f"{action} is not available: {reason}")
        return job

    def select_inputs(self, job: JobRow, index: int, urls: Sequence[str]) -> None:
        """Put the WorkData at ``urls`` into input slot ``index`` (none: clear it)."""
        step = self._selected(job)
        counts = self._input_counts(job)
        workdata_ids = self._inputs(step, {index: urls})[index]
        with self.store.transaction():
            self.store.select_inputs(job, index, workdata_ids)
            state = configured_state(step, configured_parameters(job), {**counts, index: len(workdata_ids)})
            self._change(job, "StateChanged" if state != job.state else "Updated", state=state)

    def _started(self, job: JobRow, step: StepRow, now: str) -> JobRow:
        """The job as it is right after StartProcessing: Pending, or failed when nothing can run it."""
        if self.registry.is_implemented(step):
            return job._replace(state=JobState.PENDING)
        return job._replace(state=JobState.ERROR, error=no_implementation(step), completed_at=now)

    def for_action(self, job_id: str, action: str) -> JobRow:
        """The job, once ``action`` is a job action the job allows now."""
        return for_action(JOB_ACTIONS, blocker, lambda: self.get(job_id), action, "jobs")

    def _change(self, job: JobRow, event_type: str = "Updated", **changes: Any) -> JobRow:
        with self.store.transaction():
            updated = self.store.update_job(job, **changes)
            if updated is None:
                raise NotFound(f"job {job.id}")
            events = [_event(event_type, updated)]
            self.store.log_events(events)
        self.publish(events)
        return updated

    def select_processing(self, job: JobRow, step_url: str) -> None:
        step = self._step(step_url, "ProcessingStepUrl")
        parameters = configured_parameters(job)
        if parameters is not None and parameter_errors(step.manifest.get("parameters"), parameters):
            parameters = None
        with self.store.transaction():
            if step.id != job.step_id:  # another step has other slots: its inputs start empty
                for index in self.store.job_inputs(job):
                    self.store.select_inputs(job, index, [])
            self._change(
                job, "StateChanged", step_id=step.id,
                state=configured_state(step, parameters, self._input_counts(job)),
                parameters=None if parameters is None else json.dumps(parameters),
            )

    def _selected(self, job: JobRow) -> StepRow:
        step = self.registry.get(job.step_id)
        if step is None:  # the action checks make this unreachable; it keeps the type honest
            raise Conflict("select a processing step first")
        return step

    def configure(self, job: JobRow, parameters: Any) -> None:
        """Set the parameters (a JSON object; None configures none)."""
        step = self._selected(job)
        checked = _check_parameters(step, {} if parameters is None else parameters)
        state = configured_state(step, checked, self._input_counts(job))
        self._change(job, "StateChanged", parameters=json.dumps(checked), state=state)

    def start(self, job: JobRow) -> None:
        started = self._started(job, self._selected(job), utc_now())
        job = self._change(job, "StateChanged", state=started.state, error=started.error,
                           completed_at=started.completed_at)
        if job.state == JobState.PENDING:
            self._offer(job)

    def _offer(self, job: JobRow) -> None:
        if self.offer is not None:
            self.offer(job, self._selected(job))

    def edit_tags(self, job: JobRow, tags: Sequence[str] | None) -> None:
        self._change(job, tags=tag_list(tags))

    def rename(self, job: JobRow, name: str) -> None:
        self._change(job, name=name)

    def set_hidden(self, job: JobRow, hidden: bool) -> None:
        self._change(job, hidden=hidden)

    def set_output_deletion(self, job: JobRow, allowed: bool) -> None:
        """The job's flag decides whether its outputs (present and future) are deletable."""
        with self.store.transaction():
            self.store.set_outputs_deletable(job.id, allowed)
            self._change(job, output_deletable=allowed)

    def move_to_folder(self, job: JobRow, filing: Filing) -> None:
        self._change(job, folder_id=filing.folder_id, folder_path=filing.folder_path)

    def delete(self, job: JobRow) -> None:
        with self.store.transaction():
            self.store.delete_job(job)
            if job.parent_id is not None:
                self.store.adjust_children(job.parent_id, -1)
            events = [StoredEvent("Deleted", job.id, None, time.time(), job.name)]
            self.store.log_events(events)
        self.publish(events)

    def redispatch(self, job: JobRow) -> None:
        """Offer a job that was Pending when the server stopped (it never ran)."""
        step = self._selected(job)
        if self.registry.is_implemented(step):
            self._offer(job)
        else:
            self.fail(job, no_implementation(step))

    def fail(self, job: JobRow, message: str) -> None:
        """Put a job into Error with ``message`` as its ErrorDescription."""
        self._change(job, "StateChanged", state=JobState.ERROR, error=message, completed_at=utc_now())

    def requeue(self, job: JobRow, reason: str) -> None:
        """Put a Processing job back to Pending, as if just started; the event log keeps ``reason``.

        The workers get it when they are next offered the Pending jobs.
        """
        with self.store.transaction():
            updated = self.store.update_job(
                job, only_in=(JobState.PROCESSING,), state=JobState.PENDING, started_at=None, worker_id=None
            )
            if updated is None:
                return
            events = [_event(REQUEUED_EVENT, updated, reason)]
            self.store.log_events(events)
        self.publish(events)

    def requeues(self, job: JobRow) -> int:
        """How often the job was re-queued so far."""
        return sum(1 for event in self.store.job_events(job.id) if event.event_type == REQUEUED_EVENT)

    @contextmanager
    def recording(self) -> Iterator[Recorder]:
        """Take a batch of worker reports: applied in one transaction, then announced."""
        recorder = Recorder(self.store)
        with self.store.transaction():
            yield recorder
            recorder.write()
        self.publish(recorder.events)


class Recorder:
    """Applies the workers' reports inside :meth:`JobService.recording`; reports on jobs that
    are gone, or no longer in the state a report expects, change nothing."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._now = utc_now()
        self.events: list[StoredEvent] = []
        self._logs: list[tuple[str, Sequence[LogLine]]] = []
        self._usages: list[UsageRow] = []
        self._samples: list[SampleRow] = []

    def write(self) -> None:
        """Store what the batch of reports brought, a statement per kind (none for none)."""
        self._store.log_events(self.events)
        if self._logs:
            self._store.add_job_logs(self._logs)
        if self._usages:
            self._store.set_job_usages(self._usages)
        if self._samples:
            self._store.add_job_samples(self._samples)

    def started(self, job_id: str, worker_id: str, at: float) -> None:
        """A worker took the job at ``at`` (epoch seconds)."""
        self._changed(self._store.advance_job(
            job_id, (JobState.PENDING,), state=JobState.PROCESSING, worker_id=worker_id,
            started_at=epoch_as_stored_time(at),
        ))

    def sampled(self, sample: SampleRow) -> None:
        """A sample of what a running job costs."""
        if self._store.job(sample.job_id) is not None:
            self._samples.append(sample)

    def finished(
        self, job_id: str, result: str | None, error: str | None, at: float,
        log: Sequence[LogLine] = (), usage: UsageRow | None = None,
    ) -> None:
        """The job ended at ``at``: with ``result`` (JSON text), or failed with ``error``; its
        ``log`` and ``usage`` (what it cost, measured by the worker that ran it) are kept with it."""
        failed, ended = error is not None, epoch_as_stored_time(at)
        updated = self._store.advance_job(
            job_id, _ACTIVE, started_at=ended, state=JobState.ERROR if failed else JobState.COMPLETED,
            result=None if failed else result, error=error, completed_at=ended,
        )
        if updated is None:
            return
        self._changed(updated)
        if log:
            self._logs.append((job_id, log))
        if usage is not None:
            self._usages.append(replace(usage, worker_id=updated.worker_id))

    def _changed(self, job: JobProgress | None) -> None:
        if job is not None:
            self.events.append(StoredEvent("StateChanged", job.id, job.state, time.time()))

    def output(self, written: WrittenOutput) -> None:
        """Store (or, written again, update) a WorkData a running job wrote to an output slot.

        It is visible at once, linked to the job, step and slot that produced it, and deletable
        when the job allows output data deletion. The job's event wakes its waiters.
        """
        job = self._store.job(written.job_id)
        if job is None:
            return
        try:
            media_type = checked_media_type(written.media_type)
        except Invalid:
            media_type = DEFAULT_MEDIA_TYPE
        name = written.filename[:MAX_NAME_LENGTH] or "output"
        existing = self._store.workdata(written.workdata_id)
        if existing is None:
            data = self._store.insert_workdata(WorkDataRow(
                0, written.workdata_id, name, media_type, written.size, "ProcessingArtefact", tuple(written.tags),
                written.comment, deletable=job.output_deletable, producer_job_id=job.id,
                producer_step_id=job.step_id, producer_slot=written.slot_index, created_at=self._now,
                folder_id=job.folder_id, folder_path=job.folder_path,  # as on the platform: in their job's folder
            ))
            self._store.log_events([workdata_event("Created", data)])
        elif existing.producer_job_id == job.id:
            self._store.update_workdata(
                existing, name=name, media_type=media_type, size=written.size, tags=tuple(written.tags),
                comments=written.comment,
            )
        self.events.append(_event("Updated", job))
