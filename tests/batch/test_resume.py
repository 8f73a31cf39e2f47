"""Interrupted applies resume without duplicates: Ctrl-C (SIGINT) and SIGKILL mid-sweep.

apply runs as a real subprocess of the CLI; the server outlives it (the test's local JMA,
or a standalone ``batchrun serve``), so the jobs already submitted keep running.
"""

from __future__ import annotations

import signal

from batchrun.client import Platform
from tests.serving import ServeProcess
from tests.support import read_report, running, wait_until


def test_ctrl_c_writes_the_report_exits_130_and_a_rerun_finishes(
    cli, jma, platform, write_manifest, tmp_path
):
    path = write_manifest(
        "interrupted", function="sleep_ms", grid="ms: {range: [100, 120]}", parameters="{}",
        extra="execution: {max_running: 2}\n",
    )
    with running("apply", str(path), "--endpoint", jma.url, folder=tmp_path) as apply:
        wait_until(lambda: len(platform.owned_jobs("interrupted")) >= 3, timeout=60,
                   what="the first jobs of the sweep")
        apply.send_signal(signal.SIGINT)
        assert apply.wait(timeout=60) == 130
    stderr = (tmp_path / "err.txt").read_text()
    assert "interrupted" in stderr and "run the same command again" in stderr
    rows = read_report(path, "interrupted")["jobs"]
    assert len(rows) == 20 and "NotCreated" in {row["state"] for row in rows}

    result = cli(["apply", str(path), "--endpoint", jma.url])
    assert result.exit_code == 0, result.stderr
    jobs = platform.owned_jobs("interrupted")
    assert len(jobs) == 20 and len({job.key for job in jobs}) == 20
    assert [row["state"] for row in read_report(path, "interrupted")["jobs"]] == ["Completed"] * 20


def test_sigkill_mid_sweep_then_apply_again_gives_exactly_one_job_per_point(
    write_manifest, tmp_path
):
    path = write_manifest("killed", grid="a: {range: [0, 300]}",
                          extra="execution: {max_running: 32}\n")
    with ServeProcess(tmp_path / "serve.sqlite3") as server, Platform(server.url, None) as platform:
        url = server.url
        with running("apply", str(path), "--endpoint", url, folder=tmp_path) as apply:
            wait_until(lambda: len(platform.owned_jobs("killed")) >= 100, timeout=120,
                       what="a third of the sweep to be submitted")
            apply.kill()
            apply.wait(timeout=30)
        left = platform.owned_jobs("killed")
        assert 100 <= len(left) < 300, "the kill must land mid-sweep"

        with running("apply", str(path), "--endpoint", url, folder=tmp_path) as again:
            assert again.wait(timeout=300) == 0, (tmp_path / "err.txt").read_text()
        jobs = platform.owned_jobs("killed")
        assert len(jobs) == 300 and len({job.key for job in jobs}) == 300
        assert all(job.state == "Completed" for job in jobs)
    rows = read_report(path, "killed")["jobs"]
    assert len(rows) == 300 and {row["state"] for row in rows} == {"Completed"}
