"""Deleting a job with what belongs to it, as the client's ``delete_with_associated`` does.

Sub-jobs go first (depth-first, at most ``MAX_SUBJOB_DEPTH`` levels), then the job's output
WorkData (after allowing its deletion), then the job, then its input WorkData, each as the
flags say. Everything that is already gone counts as deleted, so a repeated delete converges.
"""

from __future__ import annotations

from pinexq.client.core import ApiException

from batchrun.client.transport import Platform
from batchrun.errors import PlatformError

MAX_SUBJOB_DEPTH = 20


def delete_job(
    platform: Platform,
    url: str,
    *,
    delete_output_workdata: bool,
    delete_input_workdata: bool,
    delete_subjobs_with_data: bool,
) -> None:
    """Delete the job at ``url``: sub-jobs and outputs first, per the flags.

    A job that is already gone counts as deleted, so a repeated destroy converges.
    """
    _delete_tree(
        platform,
        url,
        outputs=delete_output_workdata,
        inputs=delete_input_workdata,
        subjobs=delete_subjobs_with_data,
        depth=0,
    )


def _delete_tree(platform: Platform, url: str, *, outputs: bool, inputs: bool, subjobs: bool, depth: int) -> None:
    what = f"deleting job {url}"
    job = platform.read(what, lambda: platform.job(url))
    if job is None:
        return
    if subjobs and depth < MAX_SUBJOB_DEPTH:
        for child in platform.sub_jobs(url):
            _delete_tree(platform, child.url, outputs=outputs, inputs=inputs, subjobs=subjobs, depth=depth + 1)
    produced = [data for slot in job.output_dataslots for data in slot.assigned_workdatas]
    if outputs and produced:
        if job.allow_output_data_deletion_action.is_available():
            platform.read(what, job.allow_output_data_deletion_action.execute)
        for data in produced:
            _delete_workdata(platform, str(data.self_link.get_url()), what)
    job = platform.read(what, lambda: platform.job(url))
    if job is None:
        return
    if not job.delete_action.is_available():
        raise PlatformError(
            f"job {job.name!r} ({url}) cannot be deleted while it is {job.state.value}"
            + (" and still has output data" if produced and not outputs else "")
            + "; wait for it to finish or delete it on the platform"
        )
    platform.read(what, lambda: platform.gone_is_fine(job.delete_action.execute))
    if inputs:
        for slot in job.input_dataslots:
            for data in slot.selected_workdatas:
                _delete_workdata(platform, str(data.self_link.get_url()), what)


def _delete_workdata(platform: Platform, url: str, what: str) -> None:
    def delete() -> None:
        data = platform.workdata(url)
        if data is not None and data.delete_action.is_available():
            platform.gone_is_fine(data.delete_action.execute)

    platform.read(what, delete)


def input_workdata(platform: Platform, url: str) -> list[str]:
    """The URLs of the WorkData selected in the input slots of the job at ``url`` (none when
    the job is gone)."""
    job = platform.read(f"reading the inputs of job {url}", lambda: platform.job(url))
    if job is None:
        return []
    return [str(data.self_link.get_url()) for slot in job.input_dataslots for data in slot.selected_workdatas]


def delete_workdata(platform: Platform, url: str) -> str | None:
    """Delete the WorkData at ``url`` if the platform allows it; None when it is deleted (or
    was gone already), else why it stays: the platform's lineage rules decide (WorkData a
    job still uses as input is refused)."""
    what = f"deleting WorkData {url}"

    def delete() -> str | None:
        data = platform.workdata(url)
        if data is None:
            return None
        if not data.delete_action.is_available():
            if data.is_used_as_job_input:
                return f"WorkData {data.name!r} ({url}) is kept: a remaining job uses it as input"
            return f"WorkData {data.name!r} ({url}) is kept: the platform does not allow deleting it"
        try:
            platform.gone_is_fine(data.delete_action.execute)
        except ApiException as error:
            if platform.failure(error).status != 409:
                raise
            details = error.problem_details
            reason = (details.detail or details.title) if details is not None else None
            return f"WorkData {data.name!r} ({url}) is kept: {reason or 'the platform refused (409)'}"
        return None

    return platform.read(what, delete)
