"""A job's Logs and Metrics, through the real client and plain HTTP against a real local JMA."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pinexq.client.core.polling import PollingException
from pinexq.client.job_management import Job, JobStates, ProcessingStep

from batchrun.localjma import LocalJMA
from batchrun.localjma.workers.output import LINE_LIMIT, LOG_LIMIT
from tests.support import STEPS, STEPS_DIR, wait_until

SOURCES = [str(STEPS), str(STEPS_DIR / "monitoring_steps.py")]
MIB = 1024 * 1024

# What the talk step writes, in this order (the debug record is below the capture's level).
TALK = [
    ("INFO", "first to stdout", "stdout"),
    ("ERROR", "then to stderr", "stderr"),
    ("INFO", "an info record", "monitoring_steps"),
    ("WARN", "a warning record", "monitoring_steps"),
    ("INFO", "written to fd 1 below Python", "stdout"),
    ("ERROR", "an error record", "monitoring_steps"),
    ("INFO", "last to stdout", "stdout"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalJMA]:
    with LocalJMA(tmp_path_factory.mktemp("monitoring") / "jma.sqlite3", steps=SOURCES, workers=2) as jma:
        yield jma


@pytest.fixture
def http(server: LocalJMA) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def run(http: httpx.Client, step: str, parameters: str = "{}", timeout_s: float = 120) -> Job:
    job = Job(http).create_and_configure_rapidly(
        name=f"monitoring: {step}", processing_step_instance=ProcessingStep.from_name(http, step), parameters=parameters,
    )
    with contextlib.suppress(PollingException):  # a failing step is what some tests want; its state says so
        job.wait_for_completion(timeout_s=timeout_s)
    return job.refresh()


def all_logs(http: httpx.Client, job: Job) -> list[dict[str, Any]]:
    """Every entry, paged as the platform's CLI pages them."""
    href = str(job.job_hco.logs_link.get_url())  # type: ignore[union-attr]
    entries: list[dict[str, Any]] = []
    while True:
        page = http.get(href, params={"limit": 100, "offset": len(entries), "order": "asc"}).json()["properties"]
        entries += page["logs"]
        if not page["logs"] or len(entries) >= page["total"]:
            return entries


def metrics(job: Job) -> dict[str, Any]:
    with warnings.catch_warnings():  # the client 2.7.0 does not know the window's property names
        warnings.simplefilter("ignore", UserWarning)
        found = job.get_metrics()
    assert found is not None
    return {"worker": found.worker, **found.metrics}


def triples(entries: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(e["level"], e["message"], e["metadata"]["source"]) for e in entries]


def test_a_job_keeps_what_it_printed_and_logged_with_levels_and_order(http: httpx.Client) -> None:
    job = run(http, "talk")
    assert job.get_state() == JobStates.completed
    logs = job.get_logs()
    assert logs is not None and logs.total == len(TALK)
    entries = all_logs(http, job)
    assert triples(entries) == TALK
    stamps = [e["timestamp"] for e in entries]
    assert stamps == sorted(stamps) and all(stamp.endswith("Z") for stamp in stamps)


def test_logs_are_paged_in_either_order(http: httpx.Client) -> None:
    job = run(http, "talk", '{"fail": true}')
    assert job.get_state() == JobStates.error
    href = str(job.job_hco.logs_link.get_url())  # type: ignore[union-attr]
    everything = all_logs(http, job)
    assert everything[-1]["message"] == "RuntimeError: talked, then failed"
    assert any(e["message"] == "Traceback (most recent call last):" for e in everything)
    newest = http.get(href, params={"limit": 3, "order": "desc"}).json()["properties"]
    assert newest["total"] == len(everything) and newest["limit"] == 3
    assert newest["logs"] == everything[::-1][:3]
    middle = http.get(href, params={"limit": 2, "offset": 2}).json()["properties"]
    assert middle["logs"] == everything[2:4] and middle["current"] == 2
    assert http.get(href, params={"offset": len(everything)}).json()["properties"]["logs"] == []


@pytest.mark.parametrize(("query", "complaint"), [
    ({"limit": "lots"}, "limit: expected a whole number from 0 to 1000, got 'lots'"),
    ({"limit": "5000"}, "limit: expected a whole number from 0 to 1000, got 5000"),
    ({"offset": "-1"}, "offset: expected a whole number 0 or more, got -1"),
    ({"order": "sideways"}, "order: expected asc or desc, got 'sideways'"),
])
def test_bad_log_queries_say_what_to_send(http: httpx.Client, query: dict[str, str], complaint: str) -> None:
    job = run(http, "noop")
    answer = http.get(str(job.job_hco.logs_link.get_url()), params=query)  # type: ignore[union-attr]
    assert answer.status_code == 400
    assert complaint in answer.text


def test_a_job_no_worker_took_has_no_logs_or_metrics(http: httpx.Client) -> None:
    job = Job(http).create("monitoring: never started").select_processing("noop")
    assert job.get_logs() is None and job.get_metrics() is None


def test_a_quiet_short_job_has_no_log_lines_and_one_end_sample(http: httpx.Client) -> None:
    job = run(http, "noop")
    logs = job.get_logs()
    assert logs is not None and (logs.total, logs.logs) == (0, [])
    found = metrics(job)
    assert found["worker"].startswith("local-")
    assert (found["status"], found["terminated"], found["terminationReason"]) == ("Succeeded", True, "Completed")
    for series in ("cpuUsage", "memoryUsage", "cpuUtilization", "memoryUtilization"):
        assert len(found[series]) == 1, series
    assert found["memoryUsage"][0]["value"] == found["peakMemoryBytes"] > 10 * MIB
    assert found["cpuSeconds"] >= 0 and found["durationSeconds"] >= 0


def test_a_flood_keeps_head_and_tail_and_says_what_it_left_out(
    http: httpx.Client, server: LocalJMA
) -> None:
    job = run(http, "flood", '{"megabytes": 100}', timeout_s=300)
    assert job.get_result() == 100
    entries = all_logs(http, job)
    messages = [e["message"] for e in entries]
    assert messages[0].startswith("0000000 yyy") and messages[-1] == "the very last line"
    notes = [e for e in entries if e["metadata"]["source"] == "worker"]
    assert len(notes) == 1 and notes[0]["level"] == "WARN" and "bytes of log left out" in notes[0]["message"]
    assert sum(len(message) for message in messages) < LOG_LIMIT
    answer = http.get(str(job.job_hco.logs_link.get_url()), params={"limit": 1000})  # type: ignore[union-attr]
    assert len(answer.content) < 2 * LOG_LIMIT
    assert server.db_path.stat().st_size + Path(f"{server.db_path}-wal").stat().st_size < 20 * MIB


def test_a_long_line_is_kept_in_pieces_and_a_long_record_is_cut(http: httpx.Client) -> None:
    chars = 2 * LINE_LIMIT + 100
    entries = all_logs(http, run(http, "long_lines", f'{{"chars": {chars}}}'))
    printed = [e["message"] for e in entries if e["metadata"]["source"] == "stdout"]
    assert [len(piece) for piece in printed] == [LINE_LIMIT, LINE_LIMIT, 100] and "".join(printed) == "p" * chars
    (record,) = [e["message"] for e in entries if e["metadata"]["source"] == "monitoring_steps"]
    assert record == "r" * LINE_LIMIT + f" … [{chars - LINE_LIMIT} characters left out]"


@pytest.mark.slow
def test_a_step_holding_500_mb_shows_in_the_memory_series(http: httpx.Client) -> None:
    job = run(http, "allocate", '{"megabytes": 500, "hold_s": 2.0}')
    assert job.get_result() == 500
    found = metrics(job)
    memory = [point["value"] for point in found["memoryUsage"]]
    assert len(memory) >= 2  # at least one sample while it ran (how many depends on the machine), then the end
    assert max(memory[:-1]) > 500 * MIB and found["peakMemoryBytes"] > 500 * MIB
    assert max(point["value"] for point in found["cpuUsage"]) > 0 and found["cpuSeconds"] > 0
    assert all(0 < point["value"] < 100 for point in found["memoryUtilization"])


def test_logs_and_costs_outlive_a_restart_and_go_with_the_job(tmp_path: Path) -> None:
    database = tmp_path / "jma.sqlite3"
    with LocalJMA(database, steps=SOURCES, workers=1) as first, httpx.Client(base_url=first.url) as http:
        url = str(run(http, "talk").self_link().get_url()).removeprefix(first.url)
    with LocalJMA(database, steps=SOURCES, workers=0) as again, httpx.Client(base_url=again.url) as http:
        assert http.get(f"{url}/Logs").json()["properties"]["total"] == len(TALK)
        assert http.get(f"{url}/Metrics").json()["properties"]["metrics"]["cpuSeconds"] >= 0
        assert http.post(f"{url}/Delete").status_code == 200
        assert http.get(f"{url}/Logs").status_code == 404
        assert http.get(f"{url}/Metrics").status_code == 404


def test_a_running_job_shows_its_samples_and_a_killed_one_keeps_them(tmp_path: Path) -> None:
    with LocalJMA(tmp_path / "jma.sqlite3", steps=SOURCES, workers=1, job_timeout=3) as jma, httpx.Client(
        base_url=jma.url
    ) as http:
        job = Job(http).create_and_configure_rapidly(
            name="monitoring: held", processing_step_instance=ProcessingStep.from_name(http, "allocate"),
            parameters='{"megabytes": 50, "hold_s": 60}',
        )

        def sampled() -> dict[str, Any] | None:
            if not job.refresh().job_hco.metrics_link:  # type: ignore[union-attr]
                return None  # no worker took it yet
            found = metrics(job)
            return found if found["memoryUsage"] and not found["terminated"] else None

        running = wait_until(sampled, timeout=30, what="samples of the running job")
        assert (running["status"], running["terminationReason"], running["cpuSeconds"]) == ("Running", None, None)
        assert max(point["value"] for point in running["memoryUsage"]) > 50 * MIB
        with contextlib.suppress(PollingException):
            job.wait_for_completion(timeout_s=30)
        killed = metrics(job.refresh())
        assert (killed["status"], killed["terminated"], killed["terminationReason"]) == ("Failed", True, "Error")
        assert len(killed["memoryUsage"]) >= len(running["memoryUsage"]) and killed["peakMemoryBytes"] is None
