"""The job state machine: which state a job is in and which actions it offers.

``Created`` → ``ReadyForProcessing`` (a step is selected, every parameter without a
default is configured and every input data slot holds its minimum of WorkData) →
``Pending`` (started; offered to the workers) → ``Processing`` → ``Completed`` | ``Error``.
The client treats a present action as "allowed" and calls absent ones only by mistake, so
the same rules decide both what a job entity shows and why a forced call is refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from batchrun.localjma.domain.slot_declarations import Slot, is_collection, missing_inputs, slot_name
from batchrun.localjma.store.rows import JobRow, StepRow
from batchrun.parameters import parameter_errors
from batchrun.states import ACTIVE, NOT_STARTED, JobState

#: The actions of a job, in the order its entity lists them.
JOB_ACTIONS = (
    "SelectProcessing",
    "ConfigureProcessing",
    "StartProcessing",
    "EditTags",
    "Rename",
    "Hide",
    "UnHide",
    "AllowOutputDataDeletion",
    "DisallowOutputDataDeletion",
    "MoveToFolder",
    "Delete",
)

#: The actions of a job's input data slot.
SLOT_ACTIONS = ("SelectWorkData", "SelectWorkDataCollection", "Clear")


def configured_state(
    step: StepRow, parameters: dict[str, object] | None, selected: Mapping[int, int] | None = None
) -> JobState:
    """``ReadyForProcessing`` once the parameters satisfy the step's schema and the input slots
    (``selected``: WorkData count per slot index) hold their minimum; else ``Created``."""
    schema = step.manifest.get("parameters")
    if parameter_errors(schema, parameters or {}) or missing_inputs(step, selected or {}):
        return JobState.CREATED
    return JobState.READY_FOR_PROCESSING


def configured_parameters(job: JobRow) -> dict[str, object] | None:
    return None if job.parameters is None else json.loads(job.parameters)


def _editing_blocker(job: JobRow, what: str) -> str | None:
    if job.state in NOT_STARTED:
        return None
    return f"the job is {job.state}; {what} only before the job is started"


def blocker(job: JobRow, action: str) -> str | None:
    """Why ``action`` is not available on ``job`` right now, or None when it is."""
    state = job.state
    if action == "SelectProcessing":
        return _editing_blocker(job, "a processing step can be selected")
    if action == "ConfigureProcessing":
        if job.step_id is None and state in NOT_STARTED:
            return "select a processing step first: its parameter schema decides what can be configured"
        return _editing_blocker(job, "parameters can be configured")
    if action == "StartProcessing":
        if state == JobState.CREATED:
            return (
                "the job is Created: select a processing step, configure its required parameters "
                "and fill its required input data slots first"
            )
        if state != JobState.READY_FOR_PROCESSING:
            return f"the job is {state}; only a job that is ReadyForProcessing can be started"
        return None
    if action in ("Hide", "UnHide"):
        hidden = action == "Hide"
        return f"the job is already {'hidden' if hidden else 'visible'}" if job.hidden == hidden else None
    if action in ("AllowOutputDataDeletion", "DisallowOutputDataDeletion"):
        allowed = action == "AllowOutputDataDeletion"
        if job.output_deletable == allowed:
            return f"output data deletion is already {'allowed' if allowed else 'disallowed'}"
        return None
    if action == "Delete":
        if state in ACTIVE:
            return f"the job is {state}; wait until it has completed or failed, then delete it"
        if job.children:
            return f"the job has {job.children} sub-job(s); delete those first"
        if job.outputs:
            return (
                f"the job has {job.outputs} output WorkData; delete those first "
                "(AllowOutputDataDeletion makes them deletable)"
            )
    return None


def slot_blocker(job: JobRow, slot: Slot, selected: int, action: str) -> str | None:
    """Why an input data slot ``action`` is not available right now, or None when it is."""
    editing = _editing_blocker(job, "input data slots can be changed")
    if editing is not None:
        return editing
    if action == "SelectWorkDataCollection" and not is_collection(slot):
        return f"input data slot '{slot_name(slot)}' takes a single WorkData; use SelectWorkData"
    if action == "Clear" and not selected:
        return f"input data slot '{slot_name(slot)}' is empty already"
    return None


#: The actions available for each combination of the facts ``blocker`` reads: a query page
#: renders a thousand jobs that share a handful of combinations.
_AVAILABLE: dict[tuple[object, ...], tuple[str, ...]] = {}


def available_actions(job: JobRow) -> tuple[str, ...]:
    facts = (job.state, job.step_id is None, job.hidden, job.output_deletable, job.children > 0, job.outputs > 0)
    found = _AVAILABLE.get(facts)
    if found is None:
        found = _AVAILABLE[facts] = tuple(action for action in JOB_ACTIONS if blocker(job, action) is None)
    return found
