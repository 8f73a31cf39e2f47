"""Steps that misbehave on the real local JMA: a worker killed mid-job, a step hanging
past the job timeout, a result that is not JSON, megabytes on stdout. Each job ends in a
clear state, and the server goes on serving the next job."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pinexq.client.job_management import Job, ProcessingStep

from batchrun.localjma import LocalJMA
from tests.serving import ServeProcess
from tests.support import STEPS_DIR, wait_until

SOURCES = [str(STEPS_DIR / "basic.py"), str(STEPS_DIR / "workers_misc.py")]
JOB_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalJMA]:
    database = tmp_path_factory.mktemp("misbehaving") / "jma.sqlite3"
    with LocalJMA(database, steps=SOURCES, workers=2, job_timeout=JOB_TIMEOUT) as jma:
        yield jma


@pytest.fixture
def client(server: LocalJMA) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http


def start(client: httpx.Client, function: str, **parameters: Any) -> Job:
    step = ProcessingStep.from_name(client, function)
    return Job(client).create_and_configure_rapidly(
        name=f"misbehaving {function}", processing_step_instance=step, parameters=json.dumps(parameters)
    )


def properties(client: httpx.Client, job: Job) -> dict[str, Any]:
    return dict(client.get(str(job.self_link().get_url())).json()["properties"])


def finished(client: httpx.Client, job: Job, timeout: float = 60) -> dict[str, Any]:
    return wait_until(
        lambda: (p := properties(client, job))["State"] in ("Completed", "Error") and p,
        timeout=timeout, what="the job to finish",
    )


def assert_still_serving(client: httpx.Client) -> None:
    """The server answers and runs the next job on a (possibly new) worker."""
    assert client.get("/api/EntryPoint").status_code == 200
    after = finished(client, start(client, "echo", text="still here"))
    assert (after["State"], json.loads(after["Result"])) == ("Completed", "still here")


def test_a_worker_killed_mid_job_fails_that_job(client, tmp_path):
    pid_file = tmp_path / "worker.pid"
    job = start(client, "hang", pid_file=str(pid_file))
    pid = int(wait_until(lambda: pid_file.exists() and pid_file.read_text(), timeout=30, what="the worker's pid"))
    os.kill(pid, signal.SIGKILL)

    state = finished(client, job)

    assert state["State"] == "Error"
    assert "died (exit code -9) while running this job" in state["ErrorDescription"]
    assert_still_serving(client)


def test_a_step_hanging_past_the_job_timeout_is_stopped(client, tmp_path):
    job = start(client, "hang", pid_file=str(tmp_path / "hung.pid"))

    state = finished(client, job, timeout=30)

    assert state["State"] == "Error"
    assert f"exceeded the local JMA's job timeout of {JOB_TIMEOUT:g} s" in state["ErrorDescription"]
    assert_still_serving(client)


def test_a_result_that_is_not_json_fails_the_job_with_the_reason(client):
    state = finished(client, start(client, "unserialisable"))

    assert state["State"] == "Error"
    assert "not JSON-serialisable" in state["ErrorDescription"]
    assert_still_serving(client)


def test_megabytes_on_stdout_do_not_hold_the_job_or_the_server(client):
    state = finished(client, start(client, "chatty", megabytes=8))

    assert (state["State"], json.loads(state["Result"])) == ("Completed", 8)
    assert_still_serving(client)


def test_an_embedded_apply_hands_execution_timeout_to_the_server(cli, tmp_path):
    path = tmp_path / "hangs.yaml"
    path.write_text(
        "version: 1\nbatch: hangs\nstep: {function: hang}\n"
        f"local: {{steps: [{SOURCES[1]}], workers: 1}}\n"
        "parameters: {}\n"
        f"grid: {{pid_file: ['{tmp_path / 'a.pid'}']}}\n"
        "execution: {timeout: 1s}\n",
        encoding="utf-8",
    )
    result = cli(["apply", str(path), "-o", "json"])

    assert result.exit_code == 1
    [row] = json.loads(result.stdout)["jobs"]
    assert row["state"] == "Error"
    assert "exceeded the local JMA's job timeout of 1 s" in row["error"]


def gone(pid: int) -> bool:
    """Exited (a zombie nobody reaps counts as gone: it runs nothing)."""
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return True


def test_workers_do_not_outlive_a_killed_server(tmp_path):
    server = ServeProcess(tmp_path / "jma.sqlite3", tmp_path / "serve.log", workers=1, steps=SOURCES)
    pid_file = tmp_path / "worker.pid"
    with server, httpx.Client(base_url=server.url, timeout=10) as client:
        start(client, "hang", pid_file=str(pid_file))
        worker = int(wait_until(lambda: pid_file.exists() and pid_file.read_text(), timeout=60,
                                what="the worker's pid"))
        server.kill()
        wait_until(lambda: gone(worker), timeout=10, what="the orphaned worker to exit")
