"""Creates that arrive together commit together: every ``201 Created`` the server sent
survives a SIGKILL right after it, and a create that fails inside a group is undone alone."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from pinexq.client.job_management import ProcessingStep

from tests.serving import ServeProcess
from tests.support import wait_until

THREADS = 8
SIREN_JSON = {"Content-Type": "application/json"}


def rapid_setup(url: str) -> tuple[str, Callable[[str], str]]:
    """The RapidSetupJob href, and a body maker for a job of ``echo`` with the given Parameters text."""
    with httpx.Client(base_url=url) as client:
        actions = {action["name"]: action["href"] for action in client.get("/api/JobsRoot").json()["actions"]}
        step_url = str(ProcessingStep.from_name(client, "echo", "1.0.0").self_link().get_url())

    def body(parameters: str) -> str:
        return json.dumps({"Name": "group", "ProcessingStepUrl": step_url, "Tags": ["group"],
                           "Parameters": parameters, "Start": False})

    return actions["RapidSetupJob"], body


def test_every_acknowledged_create_survives_a_kill_right_after_it(tmp_path: Path) -> None:
    server = ServeProcess(tmp_path / "jma.sqlite3", workers=0)
    with server:
        href, body = rapid_setup(server.url)
        acknowledged: list[str] = []
        killed = threading.Event()

        def submit(_: int) -> None:
            with httpx.Client(timeout=10) as client:
                while not killed.is_set():
                    try:
                        answer = client.post(href, content=body('{"text": "a"}'), headers=SIREN_JSON)
                    except httpx.TransportError:
                        return  # the server is gone
                    assert answer.status_code == 201
                    acknowledged.append(answer.headers["Location"])

        with ThreadPoolExecutor(THREADS) as pool:
            running = [pool.submit(submit, n) for n in range(THREADS)]
            wait_until(lambda: len(acknowledged) >= 300, timeout=60, what="300 creates answered")
            server.kill()  # while the threads still send: some creates are in a group being committed
            killed.set()
            for thread in running:
                thread.result()
        answered = list(acknowledged)

        server.start()
        with httpx.Client() as client:
            missing = [url for url in answered if client.get(url).status_code != 200]
    assert len(answered) >= 300
    assert missing == []


def test_a_create_that_fails_in_a_group_is_undone_alone(tmp_path: Path) -> None:
    with ServeProcess(tmp_path / "jma.sqlite3", workers=0) as server:
        href, body = rapid_setup(server.url)

        def submit(index: int) -> int:
            parameters = '{"text": "a"}' if index % 2 else '{"times": "many"}'
            with httpx.Client(timeout=30) as client:
                return client.post(href, content=body(parameters), headers=SIREN_JSON).status_code

        with ThreadPoolExecutor(THREADS) as pool:
            codes = list(pool.map(submit, range(200)))
        query = {"Pagination": {"PageSize": 1, "PageOffset": 0}, "Filter": {"TagsByAnd": ["group"]}}
        with httpx.Client(base_url=server.url) as client:
            actions = {action["name"]: action["href"] for action in client.get("/api/JobsRoot").json()["actions"]}
            answer = client.post(actions["CreateJobQuery"], content=json.dumps(query), headers=SIREN_JSON)
            stored = client.get(answer.headers["Location"]).json()["properties"]["TotalEntities"]
    assert codes.count(201) == 100 and codes.count(400) == 100
    assert stored == 100
