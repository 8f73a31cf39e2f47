"""Deleting a batch's jobs: after their results are in the report, or as orphans (prune).

Deletion follows the platform's ``delete_with_associated`` semantics through
:func:`batchrun.client.delete_job` and the manifest's cleanup flags (output WorkData, input
WorkData, sub-jobs). Jobs are deleted on a small pool; a job that cannot be deleted
(still running, data in use) is reported and the others are still deleted. Input WorkData
goes after all the jobs, and only where no remaining job uses it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum

from batchrun.client import Platform, RemoteJob, delete_job
from batchrun.client.deletion import delete_workdata, input_workdata
from batchrun.errors import PlatformError
from batchrun.ui import Notify, silent


class CleanupAfter(StrEnum):
    """When apply deletes the jobs of its points: ``never``, ``success`` or ``always``."""

    NEVER = "never"
    SUCCESS = "success"
    ALWAYS = "always"


@dataclass(frozen=True)
class DeleteFlags:
    """What goes with a job when it is deleted."""

    output_workdata: bool = True
    input_workdata: bool = False
    subjobs_with_data: bool = True


def jobs_to_clean(
    after: CleanupAfter, jobs: Iterable[RemoteJob], keys: Iterable[str], *, succeeded: bool
) -> list[RemoteJob]:
    """The finished jobs (every attempt) of the given points that the policy lets go.

    ``success`` deletes only when every point succeeded; ``always`` deletes whatever
    finished. Running jobs are never touched: the platform refuses, and a later apply
    adopts them.
    """
    if after is CleanupAfter.NEVER or (after is CleanupAfter.SUCCESS and not succeeded):
        return []
    wanted = set(keys)
    return [job for job in jobs if job.key in wanted and job.finished]


def delete_jobs(
    platform: Platform, jobs: Sequence[RemoteJob], flags: DeleteFlags, *, threads: int = 8, notify: Notify = silent
) -> list[str]:
    """Delete the jobs in parallel; return one message per job that could not be deleted.

    With ``flags.input_workdata`` the WorkData the jobs consumed goes last, once every job
    is deleted, each piece once: WorkData that a remaining job (of this batch or any other)
    still uses as input is kept, as the platform's lineage rules decide, and ``notify`` is
    told what stays and why. That is not a failure.
    """
    inputs: dict[str, None] = {}  # in the order the jobs were given
    lock = threading.Lock()

    def delete(job: RemoteJob) -> str | None:
        try:
            used = input_workdata(platform, job.url) if flags.input_workdata else []
            delete_job(
                platform,
                job.url,
                delete_output_workdata=flags.output_workdata,
                delete_input_workdata=False,
                delete_subjobs_with_data=flags.subjobs_with_data,
            )
        except PlatformError as error:
            return f"could not delete job {job.name!r}: {error}"
        with lock:
            inputs.update(dict.fromkeys(used))
        return None

    if not jobs:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(jobs)))) as pool:
        problems = [message for message in pool.map(delete, jobs) if message]
    problems += _delete_inputs(platform, list(inputs), notify)
    return problems


def _delete_inputs(platform: Platform, urls: list[str], notify: Notify) -> list[str]:
    """Delete the input WorkData no job uses any more; tell what stays and why."""
    problems, deleted = [], 0
    for url in urls:
        try:
            kept = delete_workdata(platform, url)
        except PlatformError as error:
            problems.append(f"could not delete input WorkData {url}: {error}")
            continue
        if kept is None:
            deleted += 1
        else:
            notify(f"cleanup: {kept}")
    if deleted:
        notify(f"cleanup: deleted {deleted} input WorkData")
    return problems
