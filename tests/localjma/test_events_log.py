"""The event log keeps a deleted job's history: over HTTP and through ``batchrun events``."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from pinexq.client.job_management import Job

from batchrun.localjma import LocalJMA
from tests.batch.conftest import invoke
from tests.localjma.test_workdata import upload, workdata_id


def job_id(job: Job) -> str:
    return str(job.self_link().get_url()).rsplit("/", 1)[-1]


def history(client: httpx.Client, resource: str, **params: object) -> list[dict]:
    response = client.get("/api/EventLog", params={"resource": resource, **params})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    return list(response.json()["events"])


def test_a_deleted_jobs_history_can_still_be_read(jma: LocalJMA, client: httpx.Client, tag: str) -> None:
    job = Job(client).create("events: deleted").set_tags([tag]).select_processing("add")
    job.configure_parameters(a=1, b=2).start().wait_for_completion(timeout_s=30)
    url, ident = str(job.self_link().get_url()), job_id(job)
    job.delete()
    assert client.get(url).status_code == 404
    events = history(client, url)  # a URL or a bare id both work
    assert events == history(client, ident)
    assert (events[0]["event"], events[0]["state"]) == ("Created", "Created")
    assert (events[-1]["event"], events[-1]["state"]) == ("Deleted", None)
    states = [e["state"] for e in events if e["event"] == "StateChanged"]
    assert states[-3:] == ["Pending", "Processing", "Completed"]
    assert events[0]["detail"] == events[-1]["detail"] == "events: deleted"
    assert {e["resource_type"] for e in events} == {"Job"} and all(e["at"].endswith("Z") for e in events)
    assert history(client, ident, after=events[2]["seq"], limit=2) == events[3:5]

    result = invoke(["events", "--endpoint", jma.url, "--job", url])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(events)
    assert "Job" in lines[0] and ident in lines[0] and "Created → Created  events: deleted" in lines[0]
    assert lines[-1].endswith("Deleted  events: deleted")
    as_json = invoke(["events", "--endpoint", jma.url, "--job", ident, "-o", "json", "--limit", "3"])
    assert as_json.exit_code == 0, as_json.stderr
    assert json.loads(as_json.stdout)["events"] == events[:3]


def test_workdata_creation_and_deletion_are_logged(client: httpx.Client, tag: str) -> None:
    data = upload(client, tag, name="logged.csv")
    ident = workdata_id(data)
    data.delete()
    assert client.get(f"/api/WorkData/{ident}").status_code == 404
    assert [(e["resource_type"], e["event"], e["detail"]) for e in history(client, ident)] == [
        ("WorkData", "Created", "logged.csv"), ("WorkData", "Deleted", "logged.csv"),
    ]


def test_events_reads_a_stopped_local_database(database: Path) -> None:
    with LocalJMA(database, workers=0) as server, httpx.Client(base_url=server.url) as client:
        job = Job(client).create("events: offline")
        ident = job_id(job)
        job.delete()
    result = invoke(["events", "--db", str(database), "--job", ident], env={"PINEXQ_ENDPOINT": ""})
    assert result.exit_code == 0, result.stderr
    assert [line.split()[3] for line in result.stdout.splitlines()] == ["Created", "Deleted"]
    missing = invoke(["events", "--db", str(database.with_name("none.sqlite3"))], env={"PINEXQ_ENDPOINT": ""})
    assert missing.exit_code == 2 and "no local JMA database at" in missing.stderr


def test_bad_event_log_queries_are_refused(client: httpx.Client) -> None:
    response = client.get("/api/EventLog", params={"after": "-1"})
    assert response.status_code == 400 and "after must be a whole number" in response.json()["detail"]
