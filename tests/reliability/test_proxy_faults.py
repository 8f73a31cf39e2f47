"""Faults between batchrun and the platform: dropped connections, answers held past the
client's timeout, 502/503 with and without Retry-After, and creates the server processed
whose answer was lost. However they fall, an apply ends with exactly one job per point
and a complete report.

apply runs in-process here, on a ``Platform`` with a short client timeout, so that an
answer held past it costs seconds, not the default 30 s.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from batchrun.apply import ApplyOptions, ApplyResult, apply_manifest
from batchrun.client import Platform, PlatformUnreachable
from batchrun.manifest import load_manifest
from tests.batch.loopback import LoopbackProxy
from tests.reliability.faults import ALL_KINDS, BEFORE_THE_SERVER, CREATE, QUERY, FirstFaults, RandomFaults
from tests.support import read_report

CLIENT_TIMEOUT = 2.0
HELD_FOR = CLIENT_TIMEOUT + 1.0  # the proxy's delay: past the client's timeout, and bounded
PATIENCE = 60.0


def apply_through(url: str, path: Path) -> ApplyResult:
    with Platform(url, None, timeout=CLIENT_TIMEOUT, patience=PATIENCE) as platform:
        return apply_manifest(platform, load_manifest(path), ApplyOptions(), notify=lambda _: None)


def assert_one_completed_job_per_point(platform: Platform, path: Path, batch: str, points: int) -> None:
    jobs = platform.owned_jobs(batch)
    assert len(jobs) == points, f"{len(jobs) - points} duplicate jobs"
    assert len({job.key for job in jobs}) == points
    assert {job.state for job in jobs} == {"Completed"}
    assert {job.attempt for job in jobs} == {1}
    report = read_report(path, batch)
    assert report["summary"] == {"Completed": points}
    assert len({row["key"] for row in report["jobs"]}) == points


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_each_kind_of_fault_leaves_one_job_per_point(kind, jma, platform, write_manifest):
    batch = f"fault-{kind}"
    path = write_manifest(batch, grid="a: {range: [0, 8]}", extra="execution: {submit: 4}\n")
    faults = FirstFaults(kind)
    with LoopbackProxy(jma.url, faults, delay=HELD_FOR) as proxy:
        result = apply_through(proxy.url, path)
    assert result.failed == 0 and not result.unsaved
    assert faults.injected[CREATE] == 2 and faults.injected[QUERY] == 2
    assert proxy.verdicts[kind] == sum(faults.injected.values())
    assert_one_completed_job_per_point(platform, path, batch, 8)


@pytest.mark.parametrize("verdict", ["503-retry-after", "429-retry-after"])
def test_a_retry_after_answer_is_honoured(verdict, jma):
    seen: list[float] = []
    lock = threading.Lock()

    def rule(method: str, path: str) -> str:
        with lock:
            if method == "POST" and path == "/api/JobsRoot/Query":
                seen.append(time.monotonic())
                return verdict if len(seen) == 1 else "forward"
        return "forward"

    with LoopbackProxy(jma.url, rule) as proxy, Platform(proxy.url, None) as flaky:
        flaky.owned_jobs("nothing-here")
    assert proxy.verdicts[verdict] == 1 and len(seen) == 2
    assert seen[1] - seen[0] >= 0.9, "the retry came before the server's Retry-After: 1"


def test_an_outage_past_the_patience_stops_the_run_and_writes_the_report(jma, platform, write_manifest):
    """Once the platform stays away longer than the patience, the whole run stops: queued
    points are not each tried (and failed) after a patience of their own."""
    path = write_manifest("outage", grid="a: {range: [0, 200]}", extra="execution: {submit: 2}\n")
    creates = 0
    lock = threading.Lock()

    def outage_after_20_creates(method: str, path: str) -> str:
        nonlocal creates
        with lock:
            creates += path == CREATE
            return "forward" if creates <= 20 else "503"

    with LoopbackProxy(jma.url, outage_after_20_creates) as proxy:
        with Platform(proxy.url, None, timeout=CLIENT_TIMEOUT, patience=1.0) as flaky:
            with pytest.raises(PlatformUnreachable, match="answered HTTP 503"):
                apply_manifest(flaky, load_manifest(path), ApplyOptions(), notify=lambda _: None)
    rows = read_report(path, "outage")["jobs"]
    assert len(rows) == 200 and len(platform.owned_jobs("outage")) == 20
    failed_on_their_own = [row for row in rows if "503" in (row["error"] or "")]
    assert len(failed_on_their_own) <= 2, "at most the creates in flight fail; the rest were never tried"


@pytest.mark.slow
def test_ten_percent_of_requests_faulted_and_500_jobs_come_out_exactly_once(
    jma, platform, write_manifest, capsys
):
    path = write_manifest("faulted-500", grid="a: {range: [0, 500]}",
                          extra="execution: {submit: 8, max_running: 64}\n")
    faults = RandomFaults(0.10, seed=2024)
    with LoopbackProxy(jma.url, faults, delay=HELD_FOR) as proxy:
        result = apply_through(proxy.url, path)
    assert result.failed == 0
    assert faults.total >= 0.08 * faults.requests, "fewer faults than planned"
    assert set(faults.injected) == set(ALL_KINDS)
    assert_one_completed_job_per_point(platform, path, "faulted-500", 500)
    creates_sent = proxy.count("POST", CREATE)
    never_arrived = sum(faults.on_creates[kind] for kind in BEFORE_THE_SERVER)
    assert creates_sent == 500 + never_arrived, "a create the server processed was sent again"
    with capsys.disabled():
        print(
            f"\n[reliability] 500-job apply, {faults.requests} requests, {faults.total} faulted "
            f"({dict(sorted(faults.injected.items()))}); {sum(faults.on_creates.values())} of "
            f"{creates_sent} creates faulted ({dict(sorted(faults.on_creates.items()))}); "
            f"{never_arrived} creates re-sent (those that never reached the server); "
            f"jobs: {len(platform.owned_jobs('faulted-500'))}, duplicates: 0"
        )
