"""The Siren entities of a job's Logs and Metrics, shaped as the platform's monitoring serves them.

Logs are pages of ``{timestamp, level, message, metadata}`` with their ``total``; Metrics
hold the worker, the queried window and the series ``cpuUsage`` (cores), ``memoryUsage``
(bytes), ``cpuUtilization`` and ``memoryUtilization`` (percent of the machine), each a list
of ``{timestamp, value}``: the samples a worker took while the job ran, then one made of
what the job cost when it ended (its peak memory and average CPU), so even a short job has
a point. The local JMA adds ``cpuSeconds`` and ``peakMemoryBytes``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from batchrun.localjma.http.siren import Entity, entity, link
from batchrun.localjma.store.rows import JobRow, LogLine, SampleRow, UsageRow
from batchrun.states import FINISHED, JobState

#: The platform's status and termination reason of a job's worker, by job state.
_STATUS = {JobState.COMPLETED: "Succeeded", JobState.ERROR: "Failed"}
_TERMINATION = {JobState.COMPLETED: "Completed", JobState.ERROR: "Error"}


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


def _stored_as_epoch(stored: str) -> float:
    return datetime.fromisoformat(stored.replace("Z", "+00:00")).timestamp()


def logs_page(href: str, lines: list[LogLine], total: int, limit: int, offset: int) -> Entity:
    """One page of a job's log."""
    entries = [
        {"timestamp": _iso(line.at), "level": line.level, "message": line.message, "metadata": {"source": line.source}}
        for line in lines
    ]
    properties = {"current": offset, "total": total, "limit": limit, "logs": entries}
    return entity("log", properties, [link("self", href)])


def _machine_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def metrics_document(href: str, job: JobRow, usage: UsageRow | None, samples: list[SampleRow]) -> Entity:
    """What the job cost so far: the samples its worker took, the window they cover."""
    start = _stored_as_epoch(job.started_at) if job.started_at else None
    end = _stored_as_epoch(job.completed_at) if job.completed_at else datetime.now(UTC).timestamp()
    cores, memory = os.cpu_count() or 1, _machine_memory()
    points = [(s.at, s.cpu_cores, s.memory) for s in samples]
    if usage is not None and start is not None:  # the end: the peak memory and the average CPU
        points.append((end, usage.cpu_seconds / max(end - start, 1e-6), usage.peak_memory))
    metrics = {
        "status": _STATUS.get(job.state, "Running" if job.state == JobState.PROCESSING else str(job.state)),
        "terminated": job.state in FINISHED,
        "terminationReason": _TERMINATION.get(job.state),
        "durationSeconds": None if start is None else max(0.0, end - start),
        "cpuUsage": [{"timestamp": _iso(at), "value": cpu} for at, cpu, _ in points],
        "memoryUsage": [{"timestamp": _iso(at), "value": rss} for at, _, rss in points],
        "cpuUtilization": [{"timestamp": _iso(at), "value": 100 * cpu / cores} for at, cpu, _ in points],
        "memoryUtilization": (
            [] if not memory else [{"timestamp": _iso(at), "value": 100 * rss / memory} for at, _, rss in points]
        ),
        "cpuSeconds": None if usage is None else usage.cpu_seconds,
        "peakMemoryBytes": None if usage is None else usage.peak_memory,
    }
    properties = {
        "worker": job.worker_id if usage is None else usage.worker_id or job.worker_id,
        "queriedStart": None if start is None else _iso(start),
        "queriedEnd": _iso(end),
        "metrics": metrics,
    }
    return entity("metrics", properties, [link("self", href)])
