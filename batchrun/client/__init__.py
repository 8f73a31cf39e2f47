"""The platform boundary: the only package that speaks HTTP to a Job-Management API, and
the only one (besides the local JMA itself) that imports pinexq-client.

* :mod:`~batchrun.client.transport`: the connection (``Platform``): requests, paged queries,
  creates and starts, with every failure a ``PlatformError`` that never shows the API key;
* :mod:`~batchrun.client.retry`: which failures are tried again and how long to wait;
* :mod:`~batchrun.client.deletion`: deleting a job with its sub-jobs and WorkData;
* :mod:`~batchrun.client.wire`: the JSON of the hot path (requests, query pages);
* :mod:`~batchrun.client.events`: the server-sent event stream of job changes;
* :mod:`~batchrun.client.records`: jobs and steps as the engine receives them;
* :mod:`~batchrun.client.monitoring`: a job's log and what it cost (its Logs and Metrics links).
"""

from batchrun.client.deletion import delete_job
from batchrun.client.events import JobEventStream
from batchrun.client.monitoring import JobCost, LogLine, read_cost, read_log, read_log_tail
from batchrun.client.records import MonitoringLinks, OutputData, RemoteJob, StepInfo
from batchrun.client.transport import PAGE_SIZE, CreateUncertain, Platform, PlatformUnreachable

__all__ = [
    "PAGE_SIZE",
    "CreateUncertain",
    "JobCost",
    "JobEventStream",
    "LogLine",
    "MonitoringLinks",
    "OutputData",
    "Platform",
    "PlatformUnreachable",
    "RemoteJob",
    "StepInfo",
    "delete_job",
    "read_cost",
    "read_log",
    "read_log_tail",
]
