"""The server dies (SIGKILL) in the middle of an apply and comes back on the same database:
apply rides the outage out and finishes, no job lost or duplicated; the jobs that were
running when it died are re-queued and complete. Without a restart, apply gives up after
``execution.patience`` with the report of what it knew, and a later apply finishes."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchrun.client import Platform
from batchrun.localjma.domain.recovery import REQUEUED
from batchrun.localjma.store.database import Store
from tests.serving import ServeProcess
from tests.support import read_report, running, wait_until

POINTS = 40


def sweep(write_manifest, batch: str) -> Path:
    return write_manifest(batch, function="sleep_ms", grid=f"ms: {{range: [300, {300 + POINTS}]}}",
                          parameters="{}", extra="execution: {max_running: 6}\n")


def states(platform: Platform, batch: str) -> dict[str, str]:
    return {job.url: job.state for job in platform.owned_jobs(batch)}


def assert_one_completed_job_per_point(platform: Platform, batch: str) -> None:
    jobs = platform.owned_jobs(batch)
    assert len(jobs) == POINTS and len({job.key for job in jobs}) == POINTS
    assert {job.state for job in jobs} == {"Completed"} and {job.attempt for job in jobs} == {1}


def requeue_notes(database: Path, job_urls: list[str]) -> dict[str, list[str | None]]:
    store = Store(database)
    try:
        return {
            url: [e.detail for e in store.job_events(url.rsplit("/", 1)[1]) if e.event_type == "Requeued"]
            for url in job_urls
        }
    finally:
        store.close()


@pytest.mark.slow
def test_server_killed_mid_apply_and_restarted_loses_and_duplicates_nothing(write_manifest, tmp_path, capsys):
    path = sweep(write_manifest, "restarted")
    server = ServeProcess(tmp_path / "jma.sqlite3", tmp_path / "serve.log")
    with server, running("apply", str(path), "--endpoint", server.url, folder=tmp_path) as apply:
        with Platform(server.url, None) as platform:
            seen = wait_until(
                lambda: (s := states(platform, "restarted")) and list(s.values()).count("Completed") >= 6
                and "Processing" in s.values() and s,
                timeout=120, what="some jobs completed and some processing",
            )
        cut_off = [url for url, state in seen.items() if state == "Processing"]
        server.kill()
        assert apply.poll() is None, "apply must wait for the platform, not give up"
        server.start()
        assert apply.wait(timeout=300) == 0, (tmp_path / "err.txt").read_text()
        with Platform(server.url, None) as platform:
            assert_one_completed_job_per_point(platform, "restarted")
    notes = requeue_notes(server.database, cut_off)
    assert any(notes.values()), "jobs processing at the kill are re-queued"
    assert all(note == [REQUEUED] for note in notes.values() if note)
    report = read_report(path, "restarted")
    assert report["summary"] == {"Completed": POINTS}
    with capsys.disabled():
        print(f"\n[reliability] server SIGKILLed with {list(seen.values()).count('Completed')} of {POINTS} "
              f"jobs completed and {len(cut_off)} processing; {sum(map(bool, notes.values()))} re-queued; "
              f"after the restart: {POINTS} jobs, {POINTS} completed, duplicates: 0")


@pytest.mark.slow
def test_apply_gives_up_after_its_patience_then_a_later_apply_finishes(write_manifest, tmp_path):
    path = sweep(write_manifest, "abandoned")
    server = ServeProcess(tmp_path / "jma.sqlite3", tmp_path / "serve.log")
    with server:
        with running("apply", str(path), "--endpoint", server.url, "--set", "execution.patience=3s",
                     folder=tmp_path) as apply:
            with Platform(server.url, None) as platform:
                wait_until(lambda: "Completed" in states(platform, "abandoned").values(), timeout=120,
                           what="the first completed job")
            server.kill()
            assert apply.wait(timeout=120) == 1
        stderr = (tmp_path / "err.txt").read_text()
        assert "cannot reach the platform" in stderr and "wrote " in stderr
        rows = read_report(path, "abandoned")["jobs"]
        assert len(rows) == POINTS and any(row["state"] != "NotCreated" for row in rows)  # as last seen

        server.start()
        with running("apply", str(path), "--endpoint", server.url, folder=tmp_path) as again:
            assert again.wait(timeout=300) == 0, (tmp_path / "err.txt").read_text()
        with Platform(server.url, None) as platform:
            assert_one_completed_job_per_point(platform, "abandoned")
