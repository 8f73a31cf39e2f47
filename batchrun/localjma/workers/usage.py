"""What a job costs its worker: CPU seconds, peak memory, and samples while it runs.

Every job ends with a measure taken from the process itself: ``getrusage`` deltas give the
CPU seconds of the worker and of the children it waited for, and ``ru_maxrss`` the peak
resident memory (on Linux the high-water mark is reset at each job's start through
``/proc/self/clear_refs``, so it is the job's own peak; elsewhere it is the worker's peak so
far). A thread samples the process tree with ``psutil`` a few times a second and reports
each sample at once (so a job that is killed still has them), but only once a job has run
for ``SAMPLE_DELAY_S``: a short job costs two ``getrusage`` calls and a write.
"""

from __future__ import annotations

import contextlib
import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from batchrun.localjma.workers.messages import JobUsage, UsageSample

SAMPLE_DELAY_S = 0.5  # a job still running after this is sampled
SAMPLE_INTERVAL_S = 0.25
SAMPLES_PER_STRIDE = 1200  # after each this many samples of one job, it is sampled half as often
_MAXRSS_UNIT = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is bytes on macOS, KiB elsewhere

Report = Callable[[UsageSample], None]


def _cpu_seconds(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


class UsageMeter:
    """Measures one job at a time: :meth:`start` when it begins, :meth:`finish` when it ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._job = 0  # which job the samples belong to; odd while one runs
        self._report: Report | None = None
        self._began_monotonic = 0.0
        self._sampled_peak = 0
        self._clear_refs = _open_clear_refs()
        # A job starts where the last one ended: the worker runs nothing in between that
        # matters, and each job then costs two getrusage calls instead of four.
        self._last = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        self._cpu_before = 0.0
        self._children_peak_before = 0
        threading.Thread(target=self._sample_while_running, name="batchrun-usage", daemon=True).start()

    def start(self, report: Report) -> None:
        """A job begins; ``report`` gets each sample taken while it runs (from another thread)."""
        if self._clear_refs is not None:
            with contextlib.suppress(OSError):
                os.write(self._clear_refs, b"5")  # reset the peak RSS to the current RSS
        own, children = self._last
        with self._lock:
            self._job += 1
            self._report = report
            self._began_monotonic = time.monotonic()
            self._cpu_before = _cpu_seconds(own) + _cpu_seconds(children)
            self._children_peak_before = children.ru_maxrss
            self._sampled_peak = 0

    def finish(self) -> JobUsage:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        self._last = own, children
        with self._lock:
            self._job += 1
            self._report = None
            cpu = max(0.0, _cpu_seconds(own) + _cpu_seconds(children) - self._cpu_before)
            peak = own.ru_maxrss
            if children.ru_maxrss > self._children_peak_before:  # a child this job waited for peaked higher
                peak = max(peak, children.ru_maxrss)
            return JobUsage(cpu, max(peak * _MAXRSS_UNIT, self._sampled_peak))

    def _sample_while_running(self) -> None:
        process: Any = None
        pause = threading.Event()
        last: tuple[int, float, float] | None = None  # (job, monotonic time, tree CPU seconds)
        ticks = taken = 0
        while True:
            pause.wait(SAMPLE_INTERVAL_S)
            with self._lock:
                job, since, cpu_before = self._job, self._began_monotonic, self._cpu_before
            if job % 2 == 0 or time.monotonic() - since < SAMPLE_DELAY_S:
                continue
            if last is None or last[0] != job:
                last, ticks, taken = (job, since, cpu_before), 0, 0
            ticks += 1
            if ticks % (1 << (taken // SAMPLES_PER_STRIDE)):
                continue
            if process is None:
                import psutil  # only a worker that runs a long job pays for the import

                process = psutil.Process()
            memory, cpu = _tree_usage(process)
            moment = time.monotonic()
            cores = max(0.0, (cpu - last[2]) / max(moment - last[1], 1e-6))
            last, taken = (job, moment, cpu), taken + 1
            self._deliver(job, UsageSample(time.time(), cores, memory))

    def _deliver(self, job: int, sample: UsageSample) -> None:
        with self._lock:
            if job != self._job or self._report is None:
                return  # the job ended meanwhile
            self._sampled_peak = max(self._sampled_peak, sample.memory_bytes)
            report = self._report
        report(sample)


def _tree_usage(process: Any) -> tuple[int, float]:
    """Resident memory (bytes) and CPU seconds of the worker and its live children."""
    import psutil

    memory, cpu = 0, 0.0
    for member in (process, *process.children(recursive=True)):
        try:
            with member.oneshot():
                memory += member.memory_info().rss
                times = member.cpu_times()
                cpu += times.user + times.system
        except psutil.Error:
            continue  # the child ended between listing and reading it
    return memory, cpu


def _open_clear_refs() -> int | None:
    try:
        return os.open("/proc/self/clear_refs", os.O_WRONLY)
    except OSError:
        return None
