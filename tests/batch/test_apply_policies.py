"""Execution settings end to end: running cap, timeouts, failure policies, --no-wait."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from batchrun.client import Platform
from batchrun.localjma import LocalJMA
from batchrun.localjma.http.stats import STATS_PATH
from batchrun.manifest.models import Execution
from tests.support import STEPS, read_report


def apply(cli, path: Path, jma: Any, *extra: str):
    return cli(["apply", str(path), "--endpoint", jma.url, *extra])


def rows(path: Path, batch: str) -> list[dict[str, Any]]:
    return list(read_report(path, batch)["jobs"])


def most_unfinished_at_once(platform: Platform, batch: str) -> int:
    """The most jobs that existed unfinished at the same moment, from their timestamps."""
    moments = []
    for job in platform.owned_jobs(batch):
        assert job.created_at and job.completed_at
        moments += [(job.created_at, 1), (job.completed_at, -1)]
    peak = level = 0
    for _, step in sorted(moments, key=lambda item: (item[0], item[1])):
        level += step
        peak = max(peak, level)
    return peak


def test_max_running_caps_unfinished_jobs_on_the_platform(cli, jma, platform, write_manifest):
    path = write_manifest(
        "capped", function="sleep_ms", grid="ms: [60, 61, 62, 63, 64, 65]", parameters="{}",
        extra="execution: {submit: 4, max_running: 2}\n",
    )
    result = apply(cli, path, jma)
    assert result.exit_code == 0, result.stderr
    assert most_unfinished_at_once(platform, "capped") <= 2
    assert len(platform.owned_jobs("capped")) == 6


def test_jobs_running_past_the_timeout_are_reported_timed_out(cli, jma, write_manifest):
    path = write_manifest(
        "slow", function="sleep_ms", grid="ms: [1500]", parameters="{}",
        extra="execution: {timeout: 0.2s}\n",
    )
    result = apply(cli, path, jma)
    assert result.exit_code == 1
    [row] = rows(path, "slow")
    assert row["state"] == "TimedOut" and "timeout" in row["error"]


def test_on_failure_cancel_stops_submitting_and_waiting(cli, jma, platform, write_manifest):
    path = write_manifest(
        "cancelling", function="fail", grid="message: [a, b, c]", parameters="{}",
        extra="execution: {submit: 1, max_running: 1, on_failure: cancel}\n",
    )
    result = apply(cli, path, jma)
    assert result.exit_code == 1
    assert [row["state"] for row in rows(path, "cancelling")] == ["Error", "NotCreated", "NotCreated"]
    assert len(platform.owned_jobs("cancelling")) == 1


def test_on_failure_finish_waits_for_running_jobs(cli, jma, platform, write_manifest):
    path = write_manifest(
        "finishing", function="sleep_ms", grid="ms: [-1, 400, 5, 6]", parameters="{}",
        extra="execution: {submit: 1, max_running: 2, on_failure: finish}\n",
    )
    # Sleeping -1 ms fails (ValueError) at once, whichever worker is ready first; the
    # 400 ms job submitted after it is still running then and is waited for.
    result = apply(cli, path, jma)
    assert result.exit_code == 1
    states = [row["state"] for row in rows(path, "finishing")]
    assert states[:2] == ["Error", "Completed"] and set(states[2:]) == {"NotCreated"}


def test_no_wait_returns_after_submitting_and_a_rerun_adopts(cli, jma, platform, write_manifest):
    path = write_manifest("detached", function="sleep_ms", grid="ms: [300, 301, 302]", parameters="{}")
    result = apply(cli, path, jma, "--no-wait")
    assert result.exit_code == 0, result.stderr
    assert any(row["state"] != "Completed" for row in rows(path, "detached"))
    again = apply(cli, path, jma)
    assert again.exit_code == 0, again.stderr
    plan_line = next(line for line in again.stderr.splitlines() if "batch 'detached'" in line)
    assert "create" not in plan_line
    assert [row["state"] for row in rows(path, "detached")] == ["Completed"] * 3
    assert len(platform.owned_jobs("detached")) == 3


@pytest.mark.parametrize("points", [3, 300])
def test_submit_threads_open_no_more_connections_than_they_use(points, cli, write_manifest, tmp_path):
    """Each submit thread keeps one connection (httpx's default pool keeps only 20, so 32
    threads would reopen them all the time, a TLS handshake each on a remote platform), and
    a batch smaller than ``execution.submit`` starts only the threads it needs."""
    path = write_manifest(f"pooled-{points}", grid=f"a: {{range: [0, {points}]}}")
    with LocalJMA(tmp_path / "stats.sqlite3", steps=[str(STEPS)], workers=2, stats=True) as server:
        httpx.delete(f"{server.url}{STATS_PATH}")
        result = cli(["apply", str(path), "--endpoint", server.url])
        seen = httpx.get(f"{server.url}{STATS_PATH}").json()
    assert result.exit_code == 0, result.stderr
    threads = min(points, Execution().submit)
    assert seen["requests"] >= points
    assert seen["opened_connections"] <= threads + 3  # the submit threads, the reads, the event stream, stats
