"""Stands in for ``pinexq.procon.jobmanagement``: a client for the server running the step.

As in procon without a job offer, the API host comes from ``JMC_API_HOST_URL`` and the key
from ``JMC_API_KEY``; the local JMA sets both for its workers. The current job's URL comes
from ``BATCHRUN_JOB_URL``, which each worker sets for the job it runs. pinexq-client loads
only when these are called, so importing this module stays cheap.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from batchrun.localjma.procon_compat.core.exceptions import ProConException

if TYPE_CHECKING:
    import httpx
    from pinexq.client.job_management import Job
    from pinexq.client.job_management.hcos import EntryPointHco

HOST_VARIABLE = "JMC_API_HOST_URL"
KEY_VARIABLE = "JMC_API_KEY"
JOB_URL_VARIABLE = "BATCHRUN_JOB_URL"


def _required(variable: str, what: str) -> str:
    value = os.environ.get(variable)
    if not value:
        raise ProConException(f"{variable} is not set: {what} is only known inside a job the local JMA runs")
    return value


def get_client() -> httpx.Client:
    """An httpx client for the job-management API this step runs under (timeout 30 s)."""
    import httpx

    key = os.environ.get(KEY_VARIABLE)
    headers = {"x-api-key": key} if key else {}
    return httpx.Client(base_url=_required(HOST_VARIABLE, "the API host"), headers=headers, timeout=30.0)


def get_entrypoint_hco() -> EntryPointHco:
    from pinexq.client.job_management.enterjma import enter_jma

    return enter_jma(get_client())


def get_job() -> Job:
    """The job this step is running as, e.g. to create sub-jobs of it."""
    import httpx
    from pinexq.client.job_management import Job

    return Job.from_url(get_client(), httpx.URL(_required(JOB_URL_VARIABLE, "the current job")))


__all__ = ["get_client", "get_entrypoint_hco", "get_job"]
