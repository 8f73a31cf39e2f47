"""Action parameter schemas, the upload action's classes, and RapidSetupJob without Start."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from pinexq.client.job_management import Job, ProcessingStep, WorkData
from pinexq.client.job_management.model import (
    CreateFolderParameters,
    JobStates,
    MoveToFolderParameters,
    RapidJobSetupParameters,
    SetJobTagsParameters,
    UploadWorkDataParameters,
)
from pinexq.client.job_management.tool.folder import Folder

from batchrun.localjma import LocalJMA
from batchrun.localjma.http.parameter_types import PARAMETER_MODELS

SCHEMA_ROUTE = "/api/ActionParameterTypes/"
WITHOUT_SCHEMA = {"ConfigureProcessingParameters"}  # a step's own parameters: its ParameterSchema says


def _actions(entity: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from entity.get("actions", [])
    for child in entity.get("entities", []):
        yield from _actions(child)


def _entities(client: httpx.Client, tag: str) -> list[dict[str, Any]]:
    """One of each kind of resource, with as many actions as it can have."""
    entry = client.get("/api/EntryPoint").json()
    roots = [client.get(link["href"]).json() for link in entry["links"] if link["rel"][0].endswith("Root")]
    data = WorkData(client).create(filename="rows.csv", mediatype="text/csv", binary=b"a\n1\n", tags=[tag])
    job = Job(client).create("schemas: shout").select_processing("shout")
    folder = Folder(client).create(name=f"schemas-{tag.split('=')[1]}")
    step = ProcessingStep.from_name(client, "shout")
    resources = [data.self_link(), job.self_link(), folder.self_link(), step.self_link()]
    return roots + [client.get(str(link.get_url())).json() for link in resources]


def test_every_action_field_links_the_schema_of_its_parameter_type(
    jma: LocalJMA, client: httpx.Client, tag: str
) -> None:
    fields = [
        (action["name"], field)
        for entity in _entities(client, tag)
        for action in _actions(entity)
        for field in action.get("fields", [])
        if field["type"] == "application/json"
    ]
    linked: dict[str, dict[str, Any]] = {}
    for name, field in fields:
        urls = [entry for entry in field["class"] if entry.startswith("http")]
        assert field["class"][0] == field["name"], name
        if field["name"] in WITHOUT_SCHEMA:
            assert urls == [], name
            continue
        assert urls == [f"{jma.url}{SCHEMA_ROUTE}{field['name']}"], name
        answer = client.get(urls[0])
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        linked[field["name"]] = answer.json()

    assert {"CreateFolderParameters", "MoveToFolderParameters", "RapidJobSetupParameters",
            "SetJobTagsParameters", "UploadWorkDataParameters", "WorkDataQueryParameters"} <= set(linked)
    for name, schema in linked.items():
        Draft202012Validator.check_schema(schema)
        assert schema["title"] == name and schema["type"] == "object"
        assert all(key[0].isupper() for key in schema["properties"]), name  # the wire's names


def test_the_schemas_accept_what_the_client_sends_and_refuse_what_the_server_refuses(client: httpx.Client) -> None:
    step_url = str(ProcessingStep.from_name(client, "add").self_link().get_url())
    sent = {
        "RapidJobSetupParameters": RapidJobSetupParameters(
            name="x", processing_step_url=step_url, tags=["a"], parameters="{}", start=False),
        "SetJobTagsParameters": SetJobTagsParameters(tags=["a", "b"]),
        "CreateFolderParameters": CreateFolderParameters(name="f"),
        "MoveToFolderParameters": MoveToFolderParameters(folder=None),
        "UploadWorkDataParameters": UploadWorkDataParameters(tags=["t"], secret=True),
    }
    for name, body in sent.items():
        schema = client.get(f"{SCHEMA_ROUTE}{name}").json()
        Draft202012Validator(schema).validate(body.model_dump(by_alias=True, exclude_none=True, mode="json"))

    nameless = {"ParentFolder": None}
    schema = client.get(f"{SCHEMA_ROUTE}CreateFolderParameters").json()
    refused = client.post("/api/FolderRoot/CreateFolder", json=nameless)

    assert not Draft202012Validator(schema).is_valid(nameless)
    assert refused.status_code == 400 and "Name" in refused.json()["detail"]


def test_an_unknown_parameter_type_is_a_404_naming_it(client: httpx.Client) -> None:
    answer = client.get(f"{SCHEMA_ROUTE}NoSuchParameters")

    assert answer.status_code == 404 and "NoSuchParameters" in answer.json()["detail"]
    assert "ConfigureProcessingParameters" not in PARAMETER_MODELS


def test_the_workdata_upload_carries_both_upload_classes(client: httpx.Client, tag: str) -> None:
    root = client.get("/api/WorkDataRoot").json()
    upload = next(action for action in root["actions"] if action["name"] == "Upload")
    data = WorkData(client).create(filename="t.csv", mediatype="text/csv", binary=b"a\n", tags=[tag], secret=True)

    assert set(upload["class"]) == {"FileUploadAction", "FileUploadActionWithParameter"}
    assert data.work_data_hco.tags == [tag] and data.work_data_hco.secret


@pytest.mark.parametrize("start", [None, False])
def test_rapid_setup_without_start_leaves_the_job_ready(client: httpx.Client, start: bool | None) -> None:
    step_url = str(ProcessingStep.from_name(client, "add").self_link().get_url())
    body: dict[str, Any] = {"Name": "rapid: no start", "ProcessingStepUrl": step_url,
                            "Parameters": json.dumps({"a": 1, "b": 2})}
    if start is not None:
        body["Start"] = start

    answer = client.post("/api/JobsRoot/RapidSetupJob", json=body)
    job = Job.from_url(client, answer.headers["location"])

    assert job.job_hco.state == JobStates.ready_for_processing
    assert job.start().wait_for_completion(timeout_s=30).get_result() == {"sum": 3.0, "product": 2.0}
