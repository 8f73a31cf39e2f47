"""Refusals with reasons: bad parameters, unknown steps, uploads, steps without code."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from pinexq.client.core import ApiException
from pinexq.client.job_management import Job, ProcessingStep
from pinexq.client.job_management.model import JobStates

pytestmark = pytest.mark.filterwarnings("error::UserWarning")


def _manifest(name: str, version: str = "1.0.0") -> dict[str, object]:
    return {
        "version": version,
        "function_name": name,
        "short_description": "uploaded only",
        "long_description": "",
        "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
        "returns": {"type": "object", "properties": {"value": {"type": "integer"}}},
        "input_dataslots": [],
        "output_dataslots": [],
        "procon_version": "2.8.3",
    }


def test_configure_rejects_bad_parameters_naming_them(client: httpx.Client) -> None:
    job = Job(client).create("validation: configure").select_processing("echo")

    with pytest.raises(ApiException) as wrong_type:
        job.configure_parameters(text="a", times="many")
    with pytest.raises(ApiException) as unknown:
        job.configure_parameters(text="a", colour="red")
    with pytest.raises(ApiException) as missing:
        job.configure_parameters(times=2)

    assert "parameter 'times'" in str(wrong_type.value) and "400" in str(wrong_type.value)
    assert "unknown parameter 'colour'" in str(unknown.value)
    assert "missing required parameter 'text'" in str(missing.value)
    assert job.get_state() == JobStates.created


def test_rapid_setup_rejects_bad_parameters_naming_them(client: httpx.Client) -> None:
    step = ProcessingStep.from_name(client, "add")

    def rapid(parameters: str) -> httpx.Response:
        body = {"Name": "validation: rapid", "ProcessingStepUrl": str(step.self_link().get_url()),
                "Parameters": parameters, "Start": True}
        return client.post("/api/JobsRoot/RapidSetupJob", json=body)

    missing = rapid(json.dumps({"a": 1}))
    wrong = rapid(json.dumps({"a": 1, "b": "two"}))
    not_json = rapid("{a: 1")

    assert missing.status_code == 400 and "missing required parameter 'b'" in missing.json()["detail"]
    assert wrong.status_code == 400 and wrong.json()["errors"] == ["parameter 'b': 'two' is not of type 'number'"]
    assert not_json.status_code == 400 and "JSON" in not_json.json()["detail"]


def test_rapid_setup_names_a_bad_step_url(client: httpx.Client) -> None:
    jma_url = str(client.base_url).rstrip("/")
    body = {"Name": "validation: no step", "ProcessingStepUrl": f"{jma_url}/api/ProcessingStep/{uuid.uuid4()}"}
    wrong_kind = {"Name": "validation: job url", "ProcessingStepUrl": f"{jma_url}/api/Job/{uuid.uuid4()}"}

    unknown = client.post("/api/JobsRoot/RapidSetupJob", json=body)
    misdirected = client.post("/api/JobsRoot/RapidSetupJob", json=wrong_kind)

    assert unknown.status_code == 400 and "ProcessingStepUrl: no processing step" in unknown.json()["detail"]
    assert misdirected.status_code == 400 and "must be a ProcessingStep URL" in misdirected.json()["detail"]


def test_uploaded_step_without_code_fails_its_jobs_with_a_hint(client: httpx.Client) -> None:
    name = f"uploaded_{uuid.uuid4().hex[:8]}"
    step = ProcessingStep(client).create(_manifest(name))
    assert step.processing_step_hco.deployment_state.value == "NotDeployed"

    job = Job(client).create("validation: no code").select_processing(processing_step_instance=step)
    job.configure_parameters(n=1).start()

    assert job.job_hco.state == JobStates.error
    assert job.job_hco.error_description == (
        f"no local implementation of {name}@1.0.0: start the server with --steps <file>"
    )


def test_uploading_an_existing_version_is_a_conflict(client: httpx.Client) -> None:
    name = f"uploaded_{uuid.uuid4().hex[:8]}"
    ProcessingStep(client).create(_manifest(name))

    with pytest.raises(ApiException, match="already registered"):
        ProcessingStep(client).create(_manifest(name))
    with pytest.raises(ApiException, match="409"):
        ProcessingStep(client).create(_manifest("echo"))  # a step from --steps
    ProcessingStep(client).create(_manifest(name, "1.0.1"))


def test_uploading_something_else_is_a_bad_request(client: httpx.Client) -> None:
    with pytest.raises(ApiException, match="function_name"):
        ProcessingStep(client).create({"version": "1.0.0"})


def test_editing_tags_rejects_empty_tags(client: httpx.Client) -> None:
    job = Job(client).create("validation: tags")

    with pytest.raises(ApiException, match="non-empty"):
        job.set_tags(["ok", " "])
    assert job.set_tags(["ok", "ok", "k=v"]).job_hco.tags == ["ok", "k=v"]
