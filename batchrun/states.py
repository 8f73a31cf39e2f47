"""Job states, and the named sets of them that client and server both decide by.

A job moves ``Created → ReadyForProcessing → Pending → Processing → Completed | Error``;
``Canceled`` and ``DataMissing`` are the platform's other ends. The values are the wire
values of pinexq-client's ``JobStates``, and a ``StrEnum`` compares equal to them, so a
state read from JSON needs no conversion.

Besides a job's state, a point of a batch can have an outcome that is not a job state
(:class:`PointState`): no job was created for it, or batchrun stopped waiting for it.

What counts as *failed*, everywhere: the job ended without a result (``Error``,
``Canceled``, ``DataMissing``), or it ran past ``execution.timeout`` (``TimedOut``). A point
that was never created has not failed; an apply that meant to create it has not succeeded
either (see ``ApplyResult.failed``).
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    """A job's state as the Job-Management API reports it."""

    UNDEFINED = "Undefined"
    CREATED = "Created"
    READY_FOR_PROCESSING = "ReadyForProcessing"
    PENDING = "Pending"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    ERROR = "Error"
    CANCELED = "Canceled"
    DATA_MISSING = "DataMissing"


class PointState(StrEnum):
    """A point's outcome in a report when it has no job state to show."""

    NOT_CREATED = "NotCreated"
    TIMED_OUT = "TimedOut"


NOT_STARTED = frozenset({JobState.CREATED, JobState.READY_FOR_PROCESSING})
"""Editable: created and configured, never started."""

ACTIVE = frozenset({JobState.PENDING, JobState.PROCESSING})
"""Started and not finished: such a job cannot be edited or deleted."""

FAILED_JOB = frozenset({JobState.ERROR, JobState.CANCELED, JobState.DATA_MISSING})
"""Finished without a result."""

FINISHED = frozenset({JobState.COMPLETED}) | FAILED_JOB
"""The job will not change any more."""

STARTED = ACTIVE | FINISHED

FAILED: frozenset[str] = FAILED_JOB | {PointState.TIMED_OUT}
"""A point failed: its job finished without a result, or it ran out of time."""
