"""What happens to unfinished jobs when the local JMA stops, or starts again on the same database.

* ``Pending`` jobs were started but never picked up by a worker: they are offered to the
  workers again, so they run exactly once.
* ``Processing`` jobs were running when the server stopped (or was killed); their worker
  is gone with it. They are re-queued: back to ``Pending`` with ``StartedAt`` and
  ``WorkerId`` cleared and an event-log line :data:`REQUEUED`, and they run again as the
  *same* job, so a batch interrupted mid-run ends with one completed job per point and
  no extra attempt. A job is run at least once, and a step may see the same job twice.
* A job that was re-queued :data:`MAX_REQUEUES` times already goes to ``Error``
  (:data:`GAVE_UP`) instead: a job that crashes the server every time must not take it
  down forever.

A clean stop re-queues at once (the database then shows the jobs ``Pending``); after a
crash the next start does. Nothing stays stuck: every job ends up running, or in a
terminal state.
"""

from __future__ import annotations

from batchrun.localjma.domain.jobs import JobService
from batchrun.states import JobState

REQUEUED = "requeued: the local JMA stopped while this job was processing"
MAX_REQUEUES = 2
GAVE_UP = (
    f"the local JMA stopped while this job was processing, {MAX_REQUEUES + 1} times; it is not "
    "run again automatically in case the job itself brings the server down: check the step "
    "(memory, native crashes), then start it again (batchrun apply --rerun-failed)"
)


def requeue_interrupted(jobs: JobService) -> int:
    """Re-queue (or, past the limit, fail) the jobs left Processing; returns how many."""
    interrupted = jobs.store.jobs_in_state(JobState.PROCESSING)
    for job in interrupted:
        if jobs.requeues(job) >= MAX_REQUEUES:
            jobs.fail(job, GAVE_UP)
        else:
            jobs.requeue(job, REQUEUED)
    return len(interrupted)


def redispatch_pending(jobs: JobService) -> int:
    """Offer the jobs that were Pending at the last stop to the workers; returns how many."""
    pending = jobs.store.jobs_in_state(JobState.PENDING)
    for job in pending:
        jobs.redispatch(job)
    return len(pending)
