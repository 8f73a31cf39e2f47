"""The wire format pinexq-client 2.7.0 parses strictly: media types, Siren shape, hrefs, SSE."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pinexq.client.job_management import Job, ProcessingStep, enter_jma

from batchrun.localjma import LocalJMA
from tests.support import wait_until

pytestmark = pytest.mark.filterwarnings("error::UserWarning")

ENTITY_KEYS = {"class", "title", "properties", "entities", "actions", "links", "rel"}
LINK_KEYS = {"href", "rel", "class", "title", "type"}
ACTION_KEYS = {"name", "href", "class", "method", "title", "type", "fields"}
FIELD_KEYS = {"name", "type", "value", "class", "title", "accept", "maxFileSizeBytes", "allowMultiple"}


def _check_entity(entity: dict[str, Any], base: str) -> Iterator[str]:
    """Every href in the entity; fails on any key the client's strict models would reject."""
    assert set(entity) <= ENTITY_KEYS
    assert isinstance(entity["class"], list) and isinstance(entity["properties"], dict)
    for link in entity.get("links", []):
        assert set(link) <= LINK_KEYS and isinstance(link["rel"], list)
        assert link["href"].startswith(f"{base}/api/")
        yield link["href"]
    for action in entity.get("actions", []):
        assert set(action) <= ACTION_KEYS and action["method"] == "POST"
        assert action["href"].startswith(f"{base}/api/")
        assert "fields" not in action or (len(action["fields"]) == 1 or action["type"] == "multipart/form-data")
        for field in action.get("fields", []):
            assert set(field) <= FIELD_KEYS
    for sub in entity.get("entities", []):
        yield from _check_entity(sub, base)


def _siren(client: httpx.Client, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.siren+json"
    assert response.headers["cache-control"] == "no-store"
    assert not {"etag", "last-modified", "expires"} & set(response.headers)
    return response.json()


def test_every_resource_is_strict_siren_with_absolute_hrefs(client: httpx.Client, jma: LocalJMA) -> None:
    job = Job(client).create("wire: crawl").select_processing("add").create_sub_job("wire: child")
    seen: set[str] = set()
    queue = [f"{jma.url}/api/EntryPoint", str(job.self_link().get_url())]
    while queue:
        url = queue.pop()
        if url in seen or url.endswith(("/Download", "/api/Events")):  # not Siren
            continue
        seen.add(url)
        queue.extend(_check_entity(_siren(client, url), jma.url))

    assert {f"{jma.url}/api/Info", f"{jma.url}/api/JobsRoot", f"{jma.url}/api/ProcessingStepsRoot"} <= seen
    assert any("/api/ProcessingStep/" in url for url in seen)


def test_info_reports_the_api_version_and_a_user(client: httpx.Client) -> None:
    info = enter_jma(client).info_link.navigate()

    assert info.api_version == "11.2.0"
    assert info.current_user.user_id
    assert info.api_events_endpoint.get_url().path == "/api/Events"


def test_a_job_tool_costs_four_requests(jma: LocalJMA) -> None:
    requests: list[str] = []
    hooks = {"request": [lambda request: requests.append(f"{request.method} {request.url.path}")]}
    with httpx.Client(base_url=jma.url, event_hooks=hooks) as client:
        Job(client)

    assert requests == ["GET /api/EntryPoint", "GET /api/Info", "GET /api/JobsRoot", "GET /api/ProcessingStepsRoot"]


def test_hrefs_follow_the_host_the_client_used(jma: LocalJMA) -> None:
    port = jma.url.rsplit(":", 1)[1]
    with httpx.Client(base_url=f"http://localhost:{port}") as client:
        entity = client.get("/api/EntryPoint", headers={"Host": f"LOCALHOST:{port}"}).json()

    assert entity["links"][0]["href"] == f"http://localhost:{port}/api/EntryPoint"


def test_errors_are_problem_details_with_status(client: httpx.Client) -> None:
    missing_job = client.get("/api/Job/00000000-0000-0000-0000-000000000000")
    unknown_route = client.get("/api/Nothing")
    wrong_method = client.delete("/api/EntryPoint")

    for response, status in ((missing_job, 404), (unknown_route, 404), (wrong_method, 405)):
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == status
    gone = Job(client).create("wire: gone")
    url = str(gone.self_link().get_url())
    assert gone.delete().job_hco is None
    assert client.get(url).status_code == 404


def test_a_forced_forbidden_action_gets_409_with_the_reason(client: httpx.Client) -> None:
    job = Job(client).create("wire: forced")
    url = str(job.self_link().get_url())
    assert not job.job_hco.start_processing_action.is_available()

    response = client.post(f"{url}/StartProcessing", headers={"content-type": "application/json"})

    assert response.status_code == 409
    assert "select a processing step" in response.json()["detail"]
    assert client.post(f"{url}/Explode").status_code == 404


def test_processing_step_download_serves_the_manifest(client: httpx.Client) -> None:
    step = ProcessingStep.from_name(client, "echo")

    manifest = json.loads(step.processing_step_hco.download_link.download())

    assert manifest["function_name"] == "echo" and manifest["version"] == "1.0.0"
    assert "text" in json.loads(step.processing_step_hco.parameter_schema)["properties"]


def _events(response: httpx.Response) -> Iterator[tuple[str, str]]:
    """(event, data) pairs from an SSE response, as they arrive."""
    event = ""
    for line in response.iter_lines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            yield event, line[5:].strip()


def test_sse_keeps_alive_and_reports_job_changes_with_the_self_href(client: httpx.Client, jma: LocalJMA) -> None:
    with httpx.Client(base_url=jma.url, timeout=5) as sse, sse.stream("GET", "/api/Events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        job = Job(client).create_and_configure_rapidly(
            name="wire: sse", processing_step_instance=ProcessingStep.from_name(client, "fail"), parameters="{}"
        )
        href = str(job.self_link().get_url())
        keep_alives, seen = 0, []
        events = _events(response)

        def heard_enough() -> bool:
            """Take the next event; true once there are 3 keep-alives and 5 events of the job."""
            nonlocal keep_alives
            event, data = next(events)
            if event == "KeepAlive":
                assert data == ""
                keep_alives += 1
            elif json.loads(data)["ResourceLink"] == href:
                seen.append(json.loads(data))
            return keep_alives >= 3 and len(seen) > 4

        wait_until(heard_enough, timeout=60, interval=0, what="3 keep-alives and 5 events of the job")

    assert keep_alives >= 3  # one on connect, then one per second
    assert {e["ResourceType"] for e in seen} == {"Job"}
    assert len(seen) > 4  # created, pending, processing, error, then re-sent on keep-alive ticks
