"""Job operations: create, configure, start, edit, delete, and the workers' reports.

Every change commits in one transaction together with its event-log line and is
published to the SSE broker only after the commit, so a waiter woken by an event always
reads the new state. Offers go to the workers after the commit too, so a worker's
``JobStarted`` always finds its job ``Pending``.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

from batchrun.localjma.actions import run_action
from batchrun.localjma.events import EventBroker
from batchrun.localjma.lifecycle import (
    SLOT_ACTIONS,
    blocker,
    configured_parameters,
    configured_state,
    slot_blocker,
)
from batchrun.localjma.payloads import (
    EditTags,
    MoveToFolder,
    RapidSetup,
    Rename,
    SelectProcessing,
    SelectWorkData,
    SelectWorkDataCollection,
    load_json,
    parse_payload,
    resource_id,
    tag_list,
)
from batchrun.localjma.problems import Problem, bad_request, conflict, not_found
from batchrun.localjma.registry import StepRegistry, step_key
from batchrun.localjma.slots import input_slot, input_slots, missing_inputs, too_many
from batchrun.localjma.store import JobRow, StepRow, StoredEvent, Store, WorkDataRow, as_stored_time, utc_now
from batchrun.localjma.workdata import DEFAULT_MEDIA_TYPE, MAX_NAME_LENGTH, checked_media_type, workdata_event
from batchrun.localjma.runslots import OutputWritten
from batchrun.localjma.workers import JobFinished, JobStarted
from batchrun.parameters import parameter_errors
from batchrun.states import ACTIVE, JobState

Offer = Callable[[JobRow, StepRow], None]
REQUEUED_EVENT = "Requeued"


def _stored(at: float) -> str:
    """An event time of the worker pool (epoch seconds) in the stored format."""
    return as_stored_time(datetime.fromtimestamp(at, timezone.utc))


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
        raise bad_request("parameters must be a JSON object of parameter names and values")
    errors = parameter_errors(step.manifest.get("parameters"), parameters)
    if errors:
        raise bad_request(
            f"invalid parameters for {step_key(step.function_name, step.version)}: {'; '.join(errors)}", errors
        )
    return parameters


class JobService:
    """The operations behind the Job and JobsRoot actions."""

    def __init__(self, store: Store, registry: StepRegistry, broker: EventBroker, offer: Offer | None = None) -> None:
        self.store = store
        self.registry = registry
        self.broker = broker
        self.offer = offer
        self._actions: dict[str, Callable[[JobRow, Any], object]] = {
            "SelectProcessing": self._select,
            "ConfigureProcessing": self._configure,
            "StartProcessing": lambda job, _: self._start(job),
            "EditTags": lambda job, data: self._change(job, tags=tag_list(parse_payload(EditTags, data).tags)),
            "Rename": lambda job, data: self._change(job, name=parse_payload(Rename, data).new_name),
            "Hide": lambda job, _: self._change(job, hidden=True),
            "UnHide": lambda job, _: self._change(job, hidden=False),
            "AllowOutputDataDeletion": lambda job, _: self._output_deletion(job, True),
            "DisallowOutputDataDeletion": lambda job, _: self._output_deletion(job, False),
            "MoveToFolder": self._move,
            "Delete": lambda job, _: self._delete(job),
        }

    def get(self, job_id: str) -> JobRow:
        job = self.store.job(job_id)
        if job is None:
            raise not_found(f"job {job_id}")
        return job

    def _step(self, url: str, field: str) -> StepRow:
        step = self.registry.get(resource_id(url, "ProcessingStep", field))
        if step is None:
            raise bad_request(f"{field}: no processing step at {url}; query the processing steps for a valid URL")
        return step

    def _parent(self, url: str | None) -> JobRow | None:
        if url is None:
            return None
        parent = self.store.job(resource_id(url, "Job", "ParentJobUrl"))
        if parent is None:
            raise bad_request(f"ParentJobUrl: no job at {url}")
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
        self.broker.publish(events)
        if started:
            self._offer(job)
        return job

    def create(self, name: str, parent_url: str | None = None) -> JobRow:
        parent = self._parent(parent_url)
        job = JobRow(0, str(uuid.uuid4()), name, JobState.CREATED, parent_id=None if parent is None else parent.id, created_at=utc_now())
        return self._commit_new(job, parent, started=False)

    def rapid_setup(self, payload: RapidSetup) -> JobRow:
        """Create, select, configure, tag and (by default) start a job in one call."""
        step = self._step(payload.processing_step_url, "ProcessingStepUrl")
        parent = self._parent(payload.parent_job_url)
        inputs = self._inputs(step, {s.index: s.work_data_urls or [] for s in payload.input_data_slots or ()})
        selected = {index: len(workdata_ids) for index, workdata_ids in inputs.items()}
        if payload.start and missing_inputs(step, selected):
            raise bad_request(f"InputDataSlots: {'; '.join(missing_inputs(step, selected))}")
        parameters: dict[str, Any] | None = None
        if payload.parameters is not None:
            try:
                parsed = load_json(payload.parameters) if payload.parameters.strip() else {}
            except ValueError as error:
                raise bad_request(f"Parameters must be JSON text of an object ({error})") from None
            parameters = _check_parameters(step, parsed)
        elif payload.start:
            _check_parameters(step, {})
        state = configured_state(step, parameters, selected)
        now = utc_now()
        job = JobRow(
            0, str(uuid.uuid4()), payload.name, state, step_id=step.id,
            parameters=None if parameters is None else json.dumps(parameters),
            tags=tag_list(payload.tags), output_deletable=bool(payload.allow_output_data_deletion),
            parent_id=None if parent is None else parent.id, created_at=now,
        )
        if payload.start:
            job = self._started(job, step, now)
        return self._commit_new(job, parent, started=job.state == JobState.PENDING, inputs=inputs)

    def _inputs(self, step: StepRow, chosen: dict[int, list[str]]) -> dict[int, list[str]]:
        """WorkData ids per input slot index, from WorkData URLs; 400 unless they all fit."""
        slots = input_slots(step)
        resolved: dict[int, list[str]] = {}
        for index, urls in chosen.items():
            if not 0 <= index < len(slots):
                raise bad_request(f"input data slot {index} does not exist: the step has {len(slots)} input slot(s)")
            reason = too_many(slots[index], len(urls))
            if reason is not None:
                raise bad_request(reason)
            resolved[index] = [resource_id(url, "WorkData", "WorkDataUrl") for url in urls]
            for url, workdata_id in zip(urls, resolved[index]):
                if self.store.workdata(workdata_id) is None:
                    raise bad_request(f"WorkDataUrl: no WorkData at {url}")
        return resolved

    def _input_counts(self, job: JobRow) -> dict[int, int]:
        return {index: len(rows) for index, rows in self.store.job_inputs(job).items()}

    def act_on_input(self, job_id: str, index: int, action: str, data: Any) -> None:
        """Run an input data slot action (SelectWorkData, SelectWorkDataCollection, Clear)."""
        if action not in SLOT_ACTIONS:
            raise not_found(f"action {action!r} on input data slots")
        job = self.get(job_id)
        step = self.registry.get(job.step_id)
        slot = input_slot(step, index)
        counts = self._input_counts(job)
        reason = slot_blocker(job, slot, counts.get(index, 0), action)
        if reason is not None or step is None:
            raise conflict(f"{action} is not available: {reason}")
        if action == "SelectWorkData":
            urls = [parse_payload(SelectWorkData, data).work_data_url]
        elif action == "SelectWorkDataCollection":
            urls = parse_payload(SelectWorkDataCollection, data).work_data_urls or []
        else:
            urls = []
        workdata_ids = self._inputs(step, {index: urls})[index]
        with self.store.transaction():
            self.store.select_inputs(job, index, workdata_ids)
            state = configured_state(step, configured_parameters(job), {**counts, index: len(workdata_ids)})
            self._change(job, "StateChanged" if state != job.state else "Updated", state=state)

    def _started(self, job: JobRow, step: StepRow, now: str) -> JobRow:
        """The job as it is right after StartProcessing: Pending, or failed when nothing can run it."""
        if self.registry.is_implemented(step):
            return replace(job, state=JobState.PENDING)
        return replace(job, state=JobState.ERROR, error=no_implementation(step), completed_at=now)

    def act(self, job_id: str, action: str, data: Any) -> None:
        """Run a Job action; 404 for an unknown action, 409 (with the reason) when not allowed."""
        run_action(self._actions, blocker, lambda: self.get(job_id), action, data, "jobs")

    def _change(self, job: JobRow, event_type: str = "Updated", **changes: Any) -> JobRow:
        with self.store.transaction():
            updated = self.store.update_job(job, **changes)
            if updated is None:
                raise not_found(f"job {job.id}")
            events = [_event(event_type, updated)]
            self.store.log_events(events)
        self.broker.publish(events)
        return updated

    def _select(self, job: JobRow, data: Any) -> None:
        step = self._step(parse_payload(SelectProcessing, data).processing_step_url, "ProcessingStepUrl")
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
            raise conflict("select a processing step first")
        return step

    def _configure(self, job: JobRow, data: Any) -> None:
        step = self._selected(job)
        parameters = _check_parameters(step, {} if data is None else data)
        state = configured_state(step, parameters, self._input_counts(job))
        self._change(job, "StateChanged", parameters=json.dumps(parameters), state=state)

    def _start(self, job: JobRow) -> None:
        started = self._started(job, self._selected(job), utc_now())
        job = self._change(job, "StateChanged", state=started.state, error=started.error,
                           completed_at=started.completed_at)
        if job.state == JobState.PENDING:
            self._offer(job)

    def _offer(self, job: JobRow) -> None:
        if self.offer is not None:
            self.offer(job, self._selected(job))

    def _output_deletion(self, job: JobRow, allowed: bool) -> None:
        """The job's flag decides whether its outputs (present and future) are deletable."""
        with self.store.transaction():
            self.store.set_outputs_deletable(job.id, allowed)
            self._change(job, output_deletable=allowed)

    def _move(self, job: JobRow, data: Any) -> None:
        """Every job is at the root already: moving there changes nothing."""
        if parse_payload(MoveToFolder, data).folder is not None:
            raise bad_request("Folder: the local JMA has no folders; every job stays at the root")

    def _delete(self, job: JobRow) -> None:
        with self.store.transaction():
            self.store.delete_job(job)
            if job.parent_id is not None:
                self.store.adjust_children(job.parent_id, -1)
            events = [StoredEvent("Deleted", job.id, None, time.time(), job.name)]
            self.store.log_events(events)
        self.broker.publish(events)

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
            events = [replace(_event(REQUEUED_EVENT, updated), detail=reason)]
            self.store.log_events(events)
        self.broker.publish(events)

    def requeues(self, job: JobRow) -> int:
        """How often the job was re-queued so far."""
        return sum(1 for event in self.store.job_events(job.id) if event.event_type == REQUEUED_EVENT)

    def record(self, batch: Sequence[JobStarted | JobFinished | OutputWritten]) -> None:
        """Apply a batch of worker reports in one transaction, then announce them."""
        now = utc_now()
        events: list[StoredEvent] = []
        with self.store.transaction():
            for report in batch:
                job = self.store.job(report.job_id)
                if job is None:
                    continue
                if isinstance(report, JobStarted):
                    updated = self.store.update_job(
                        job, only_in=(JobState.PENDING,), state=JobState.PROCESSING, worker_id=report.worker_id,
                        started_at=_stored(report.at),
                    )
                elif isinstance(report, OutputWritten):
                    events.append(self._record_output(job, report, now))
                    continue
                else:
                    failed, ended = report.error is not None, _stored(report.at)
                    updated = self.store.update_job(
                        job, only_in=tuple(ACTIVE), state=JobState.ERROR if failed else JobState.COMPLETED,
                        result=None if failed else report.result, error=report.error, completed_at=ended,
                        started_at=job.started_at or ended,
                    )
                if updated is not None:
                    events.append(_event("StateChanged", updated))
            self.store.log_events(events)
        self.broker.publish(events)

    def _record_output(self, job: JobRow, report: OutputWritten, now: str) -> StoredEvent:
        """Store (or, written again, update) a WorkData a running job wrote to an output slot.

        It is visible at once, linked to the job, step and slot that produced it, and deletable
        when the job allows output data deletion. The job's event wakes its waiters.
        """
        try:
            media_type = checked_media_type(report.media_type)
        except Problem:
            media_type = DEFAULT_MEDIA_TYPE
        name = report.filename[:MAX_NAME_LENGTH] or "output"
        existing = self.store.workdata(report.workdata_id)
        if existing is None:
            data = self.store.insert_workdata(WorkDataRow(
                0, report.workdata_id, name, media_type, report.size, "ProcessingArtefact", tuple(report.tags),
                report.comment, deletable=job.output_deletable, producer_job_id=job.id,
                producer_step_id=job.step_id, producer_slot=report.slot_index, created_at=now,
            ))
            self.store.log_events([workdata_event("Created", data)])
        elif existing.producer_job_id == job.id:
            self.store.update_workdata(
                existing, name=name, media_type=media_type, size=report.size, tags=tuple(report.tags),
                comments=report.comment,
            )
        return _event("Updated", job)

