"""What a report adds from each job's Logs and Metrics links: the cost of every finished
point and the last lines of a failed one's log; and a point's whole log, for ``logs``.

One or two GETs per job, several at a time. A platform without those links leaves the
fields empty; so does one that fails to answer, so a report is still written when its
monitoring is down (the rows then have no cost, never a wrong one).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from batchrun.client import LogLine, Platform, read_cost, read_log, read_log_tail
from batchrun.errors import PlatformError
from batchrun.report.model import Report, ReportJob, ReportLogLine
from batchrun.states import FAILED, FINISHED

LOG_TAIL_LINES = 20  # of a failed point's log, in the report
LOG_TAILS = 100
"""Failed points whose log tail a report reads (the first ones): a batch failing wholesale
would otherwise cost a request per point; ``batchrun logs`` prints any point's log."""
THREADS = 8


def with_job_details(platform: Platform, report: Report, *, costs: bool = True, threads: int = THREADS) -> Report:
    """The report with each failed point's log tail and, with ``costs``, each finished point's cost."""
    tailed = set(sorted(row.index for row in report.jobs if row.state in FAILED)[:LOG_TAILS])
    wanted = [row for row in report.jobs if row.index in tailed or (costs and row.state in FINISHED)]
    if not wanted:
        return report
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="batchrun-details") as pool:
        updated = {row.index: row for row in pool.map(
            lambda row: _detailed(platform, row, costs, tail=row.index in tailed), wanted)}
    return report.model_copy(update={"jobs": [updated.get(row.index, row) for row in report.jobs]})


def _detailed(platform: Platform, row: ReportJob, costs: bool, *, tail: bool) -> ReportJob:
    try:
        if costs and row.metrics_url is not None:
            cost = read_cost(platform, row.metrics_url)
            row = replace(row, cpu_seconds=cost.cpu_seconds, peak_memory_bytes=cost.peak_memory_bytes)
        if tail and row.logs_url is not None:
            row = replace(row, log_tail=tuple(
                ReportLogLine(timestamp=line.timestamp, level=line.level, message=line.message)
                for line in read_log_tail(platform, row.logs_url, LOG_TAIL_LINES)
            ))
    except PlatformError:
        pass  # no monitoring answer: the row keeps no cost rather than a wrong one
    return row


def point_log(platform: Platform, row: ReportJob, tail: int | None = None) -> list[LogLine] | None:
    """The log of a point's job (its last ``tail`` lines), or None when no worker took it yet."""
    if row.logs_url is None:
        return None
    return read_log(platform, row.logs_url) if tail is None else read_log_tail(platform, row.logs_url, tail)
