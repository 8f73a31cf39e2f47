"""``Prefer``: a created query answers its first page right away (``return=representation``),
and a job query's items come without their actions when the client only reads them."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pinexq.client.job_management import Job

from batchrun.client.wire import READ_ONLY_ITEMS
from tests.localjma.test_workdata import upload

PREFER = {"Content-Type": "application/json", "Prefer": "return=representation"}
QUERIES = [
    ("/api/JobsRoot/Query", {"Filter": {"TagsByAnd": ["nobody=uses-this"]}}),
    ("/api/ProcessingStepsRoot/Query", {"Filter": {"FunctionName": "add", "FunctionNameMatchType": "MatchExact"}}),
    ("/api/WorkDataRoot/Query", {"Filter": {"TagsByAnd": ["nobody=uses-this"]}}),
]


@pytest.mark.parametrize(("path", "query"), QUERIES)
def test_the_201_carries_what_its_location_shows(client: httpx.Client, path: str, query: dict) -> None:
    answer = client.post(path, content=json.dumps(query), headers=PREFER)

    assert answer.status_code == 201
    assert answer.headers["Preference-Applied"] == "return=representation"
    assert answer.headers["Content-Location"] == answer.headers["Location"]
    assert answer.headers["Content-Type"] == "application/vnd.siren+json"
    assert answer.json() == client.get(answer.headers["Location"]).json()


@pytest.mark.parametrize(("path", "query"), QUERIES)
def test_without_the_preference_the_answer_is_a_bare_201(client: httpx.Client, path: str, query: dict) -> None:
    answer = client.post(path, content=json.dumps(query), headers={"Content-Type": "application/json"})

    assert answer.status_code == 201 and answer.content == b""
    assert "Preference-Applied" not in answer.headers


def test_a_workdata_query_answers_its_first_page_at_once(client: httpx.Client, tag: str) -> None:
    for name in ("older.txt", "newer.txt"):
        parameters = json.dumps({"Tags": [tag]})
        uploaded = client.post("/api/WorkDataRoot/Upload", files={"upload-file": (name, b"1", "text/plain")},
                               data={"UploadWorkDataParameters": parameters})
        assert uploaded.status_code == 201
    query = {"Filter": {"TagsByAnd": [tag]}, "Pagination": {"PageSize": 1}}

    answer = client.post("/api/WorkDataRoot/Query", content=json.dumps(query), headers=PREFER)

    assert answer.status_code == 201
    assert answer.headers["Preference-Applied"] == "return=representation"
    page = answer.json()
    assert page["class"] == ["WorkDataQueryResult"]
    assert page["properties"]["TotalEntities"] == 2
    assert [item["properties"]["Name"] for item in page["entities"]] == ["newer.txt"]
    assert "next" in {rel for link in page["links"] for rel in link["rel"]}
    assert page == client.get(answer.headers["Location"]).json()


READ_ONLY = {**PREFER, "Prefer": f"return=representation, {READ_ONLY_ITEMS}"}


def without_actions(entity: Any) -> Any:
    """An entity with every action left out, at every depth."""
    if isinstance(entity, list):
        return [without_actions(item) for item in entity]
    if isinstance(entity, dict):
        return {key: without_actions(value) for key, value in entity.items() if key != "actions"}
    return entity


def action_count(entity: Any) -> int:
    if isinstance(entity, list):
        return sum(action_count(item) for item in entity)
    if isinstance(entity, dict):
        return len(entity.get("actions", ())) + sum(action_count(value) for value in entity.values())
    return 0


def test_read_only_items_are_the_full_items_without_their_actions(client: httpx.Client, tag: str) -> None:
    """A job with WorkData in an input and an output slot: every level of its item loses its
    actions, on the 201 and on the pages its links lead to, and nothing else changes."""
    text = upload(client, tag, b"quiet", "quiet.txt", "text/plain")
    Job(client).create("prefer: reader").set_tags([tag]).select_processing("shout") \
        .assign_input_dataslot(0, work_data_instance=text).start().wait_for_completion(timeout_s=30)
    Job(client).create("prefer: idle").set_tags([tag])
    query = json.dumps({"Filter": {"TagsByAnd": [tag]}, "Pagination": {"PageSize": 1}})

    full = client.post("/api/JobsRoot/Query", content=query, headers=PREFER)
    read_only = client.post("/api/JobsRoot/Query", content=query, headers=READ_ONLY)

    assert read_only.headers["Preference-Applied"] == f"return=representation, {READ_ONLY_ITEMS}"
    pages = [(full.json(), read_only.json())]
    next_page = next(link["href"] for link in read_only.json()["links"] if "next" in link["rel"])
    following = client.get(next_page, headers={"Prefer": READ_ONLY_ITEMS})
    assert following.headers["Preference-Applied"] == READ_ONLY_ITEMS
    assert "Preference-Applied" not in client.get(next_page).headers
    pages.append((client.get(next_page).json(), following.json()))
    for whole, lean in pages:
        assert action_count(whole["entities"]) > 0 and action_count(lean["entities"]) == 0
        assert lean == without_actions(whole)
    reader = pages[1][1]["entities"][0]  # oldest last: the job that ran
    slots = {slot["class"][0]: slot for slot in reader["entities"]}
    assert slots["InputDataSlot"]["entities"][0]["properties"]["Name"] == "quiet.txt"
    assert slots["OutputDataSlot"]["entities"], "the output WorkData is in the read-only item"


@pytest.mark.parametrize(("path", "query"), QUERIES[1:])
def test_only_job_queries_claim_read_only_items(client: httpx.Client, path: str, query: dict) -> None:
    answer = client.post(path, content=json.dumps(query), headers=READ_ONLY)

    assert answer.headers["Preference-Applied"] == "return=representation"


def test_a_job_read_on_its_own_keeps_its_actions(client: httpx.Client, tag: str) -> None:
    job = Job(client).create("prefer: single").set_tags([tag])

    answer = client.get(str(job.self_link().get_url()), headers={"Prefer": READ_ONLY_ITEMS})

    assert action_count(answer.json()) > 0 and "Preference-Applied" not in answer.headers
