"""``Prefer: return=representation``: a created query answers its first page right away."""

from __future__ import annotations

import json

import httpx
import pytest

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
