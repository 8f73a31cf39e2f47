"""A job's log and what it cost, read through its ``Logs`` and ``Metrics`` links.

Logs come in pages of ``{timestamp, level, message}`` with their ``total``, asked for by
``limit``/``offset``/``order`` as the platform's own CLI asks; a tail is one newest-first
page. Metrics are series of ``{timestamp, value}``: the peak memory is the highest
``memoryUsage`` sample and the CPU seconds the ``cpuUsage`` cores summed over the time
between samples, unless the platform states them (the local JMA's ``peakMemoryBytes``
and ``cpuSeconds``, which cover a job too short to be sampled).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

import httpx
from pydantic import BaseModel, ConfigDict, Field

from batchrun.client.transport import Platform

LOG_PAGE = 1000  # the most entries a page may hold


@dataclass(frozen=True)
class LogLine:
    """One entry of a job's log."""

    timestamp: datetime | None
    level: str
    message: str


@dataclass(frozen=True)
class JobCost:
    """What a job cost the worker that ran it (None: the platform did not say)."""

    cpu_seconds: float | None
    peak_memory_bytes: int | None


class _Lenient(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class _Entry(_Lenient):
    timestamp: datetime | None = None
    level: str | None = None
    message: str | None = None


class _LogsProperties(_Lenient):
    total: int = 0
    logs: list[_Entry] = Field(default_factory=list)


class _LogsPage(_Lenient):
    properties: _LogsProperties = Field(default_factory=_LogsProperties)


class _Point(_Lenient):
    timestamp: datetime | None = None
    value: float | None = None


class _Metrics(_Lenient):
    cpu_usage: list[_Point] = Field(default_factory=list, alias="cpuUsage")
    memory_usage: list[_Point] = Field(default_factory=list, alias="memoryUsage")
    cpu_seconds: float | None = Field(None, alias="cpuSeconds")
    peak_memory_bytes: int | None = Field(None, alias="peakMemoryBytes")


class _MetricsProperties(_Lenient):
    metrics: _Metrics | None = None


class _MetricsDocument(_Lenient):
    properties: _MetricsProperties = Field(default_factory=_MetricsProperties)


def _page(platform: Platform, href: str, *, limit: int, offset: int, newest_first: bool) -> _LogsProperties:
    url = str(httpx.URL(href).copy_merge_params(
        {"limit": limit, "offset": offset, "order": "desc" if newest_first else "asc"}
    ))
    page = platform.read(f"reading the log at {href}", lambda: _LogsPage.model_validate_json(platform.get(url)))
    return page.properties


def _line(entry: _Entry) -> LogLine:
    return LogLine(entry.timestamp, entry.level or "", entry.message or "")


def read_log(platform: Platform, href: str) -> list[LogLine]:
    """The whole log at ``href`` (a job's Logs link), oldest first."""
    lines: list[LogLine] = []
    while True:
        page = _page(platform, href, limit=LOG_PAGE, offset=len(lines), newest_first=False)
        lines += [_line(entry) for entry in page.logs]
        if not page.logs or len(lines) >= page.total:
            return lines


def read_log_tail(platform: Platform, href: str, count: int) -> list[LogLine]:
    """The last ``count`` lines of the log at ``href``, oldest first."""
    page = _page(platform, href, limit=min(count, LOG_PAGE), offset=0, newest_first=True)
    return [_line(entry) for entry in reversed(page.logs)]


def read_cost(platform: Platform, href: str) -> JobCost:
    """What the job whose Metrics link is ``href`` cost."""
    document = platform.read(f"reading the metrics at {href}", lambda: _MetricsDocument.model_validate_json(
        platform.get(href)
    ))
    metrics = document.properties.metrics
    if metrics is None:
        return JobCost(None, None)
    memory = [point.value for point in metrics.memory_usage if point.value is not None]
    peak = metrics.peak_memory_bytes if metrics.peak_memory_bytes is not None else (
        int(max(memory)) if memory else None
    )
    cpu = metrics.cpu_seconds if metrics.cpu_seconds is not None else _core_seconds(metrics.cpu_usage)
    return JobCost(cpu, peak)


def _core_seconds(series: list[_Point]) -> float | None:
    """Cores times the seconds since the previous sample, summed (None without two samples)."""
    points = sorted((p.timestamp, p.value) for p in series if p.timestamp is not None and p.value is not None)
    if len(points) < 2:
        return None
    return sum(value * (at - before).total_seconds() for (before, _), (at, value) in itertools.pairwise(points))
