"""What happens to unfinished jobs when the local JMA starts again on the same database.

* ``Pending`` jobs were started but never picked up by a worker: they are offered to the
  workers again, so they run exactly once.
* ``Processing`` jobs were running when the server stopped; whether they finished is
  unknown, so they go to ``Error`` with :data:`INTERRUPTED` (at-most-once execution, like
  the platform). Starting them again is the user's call.

Nothing stays stuck: every job ends up running, or in a terminal state.
"""

from __future__ import annotations

from batchrun.localjma.jobs import JobService

INTERRUPTED = "the local JMA stopped while this job was processing; start it again"


def fail_interrupted(jobs: JobService) -> int:
    """Fail the jobs that were Processing at the last stop; returns how many."""
    interrupted = jobs.store.jobs_in_state("Processing")
    for job in interrupted:
        jobs.fail(job, INTERRUPTED)
    return len(interrupted)


def redispatch_pending(jobs: JobService) -> int:
    """Offer the jobs that were Pending at the last stop to the workers; returns how many."""
    pending = jobs.store.jobs_in_state("Pending")
    for job in pending:
        jobs.redispatch(job)
    return len(pending)
