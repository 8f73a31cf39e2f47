"""Reading the event stream: only job events count, keep-alives and garbage do not."""

from __future__ import annotations

from batchrun.client.events import _job_links

JOB = "http://127.0.0.1:8000/api/Job/0b4c1b8e-2f0c-4d43-9a53-3f1f1d6c9e2a"


def test_a_job_event_names_its_job() -> None:
    event = b'event: ApiEvent\ndata: {"EventType": "StateChanged", "ResourceType": "Job", "ResourceLink": "%s"}' % JOB.encode()

    assert _job_links(event) == [JOB]


def test_data_split_over_lines_is_joined() -> None:
    event = b'event: ApiEvent\ndata: {"ResourceType": "Job",\ndata: "ResourceLink": "%s"}' % JOB.encode()

    assert _job_links(event) == [JOB]


def test_keep_alives_other_resources_and_garbage_are_ignored() -> None:
    assert _job_links(b"event: KeepAlive\ndata:") == []
    assert _job_links(b'event: ApiEvent\ndata: {"ResourceType": "WorkData", "ResourceLink": "x"}') == []
    assert _job_links(b'event: ApiEvent\ndata: {"ResourceLink": ') == []
