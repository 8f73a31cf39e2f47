"""The job state machine: which state a job is in and which actions it offers.

``Created`` → ``ReadyForProcessing`` (a step is selected and every parameter without a
default is configured) → ``Pending`` (started; offered to the workers) → ``Processing``
→ ``Completed`` | ``Error``. The client treats a present action as "allowed" and calls
absent ones only by mistake, so the same rules decide both what a job entity shows and
the 409 reason a forced POST gets.
"""

from __future__ import annotations

import json

from batchrun.localjma.store import JobRow, StepRow
from batchrun.parameters import parameter_errors

EDITABLE_STATES = frozenset({"Created", "ReadyForProcessing"})
RUNNING_STATES = frozenset({"Pending", "Processing"})

#: Job actions and the parameter type each takes (None: a parameterless action).
JOB_ACTIONS: dict[str, str | None] = {
    "SelectProcessing": "SelectProcessingParameters",
    "ConfigureProcessing": "ConfigureProcessingParameters",
    "StartProcessing": None,
    "EditTags": "SetJobTagsParameters",
    "Rename": "RenameJobParameters",
    "Hide": None,
    "UnHide": None,
    "AllowOutputDataDeletion": None,
    "DisallowOutputDataDeletion": None,
    "MoveToFolder": "MoveToFolderParameters",
    "Delete": None,
}


def configured_state(step: StepRow, parameters: dict[str, object] | None) -> str:
    """``ReadyForProcessing`` once the parameters satisfy the step's schema, else ``Created``."""
    schema = step.manifest.get("parameters")
    return "Created" if parameter_errors(schema, parameters or {}) else "ReadyForProcessing"


def configured_parameters(job: JobRow) -> dict[str, object] | None:
    return None if job.parameters is None else json.loads(job.parameters)


def _editing_blocker(job: JobRow, what: str) -> str | None:
    if job.state in EDITABLE_STATES:
        return None
    return f"the job is {job.state}; {what} only before the job is started"


def blocker(job: JobRow, action: str) -> str | None:
    """Why ``action`` is not available on ``job`` right now, or None when it is."""
    state = job.state
    if action == "SelectProcessing":
        return _editing_blocker(job, "a processing step can be selected")
    if action == "ConfigureProcessing":
        if job.step_id is None and state in EDITABLE_STATES:
            return "select a processing step first: its parameter schema decides what can be configured"
        return _editing_blocker(job, "parameters can be configured")
    if action == "StartProcessing":
        if state == "Created":
            return "the job is Created: select a processing step and configure its required parameters first"
        if state != "ReadyForProcessing":
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
        if state in RUNNING_STATES:
            return f"the job is {state}; wait until it has completed or failed, then delete it"
        if job.children:
            return f"the job has {job.children} sub-job(s); delete those first"
    return None


def available_actions(job: JobRow) -> list[str]:
    return [action for action in JOB_ACTIONS if blocker(job, action) is None]
