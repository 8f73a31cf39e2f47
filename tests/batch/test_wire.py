"""batchrun's own request bodies and page models against pinexq-client, the authority on the wire."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from pinexq.client.job_management import ProcessingStepQuery, enter_jma
from pinexq.client.job_management.model import (
    FunctionNameMatchTypes,
    JobFilterParameter,
    JobQueryParameters,
    JobSortProperties,
    JobSortPropertiesSortParameter,
    Pagination,
    ProcessingStepFilterParameter,
    ProcessingStepQueryParameters,
    ProcessingStepSortProperties,
    ProcessingStepSortPropertiesSortParameter,
    RapidJobSetupParameters,
    SortTypes,
)
from pydantic import BaseModel

from batchrun.client.wire import Entity, ProtocolError, StepPage, job_query_body, rapid_setup_body, step_query_body

STEP_URL = "http://jma.test/api/ProcessingSteps/0b6f"


def as_client_sends(parameters: BaseModel) -> dict:
    """What pinexq-client puts on the wire for action parameters (wire names, unset left out)."""
    return json.loads(parameters.model_dump_json(by_alias=True, exclude_none=True))


def test_rapid_setup_body_is_the_clients() -> None:
    ours = rapid_setup_body(name="sweep-3", step_url=STEP_URL, tags=("batchrun.batch=b", "x"),
                            parameters={"a": 1.5, "s": "é"}, start=True)
    theirs = RapidJobSetupParameters(name="sweep-3", processing_step_url=STEP_URL, tags=["batchrun.batch=b", "x"],
                                     parameters=json.dumps({"a": 1.5, "s": "é"}), start=True)
    assert json.loads(ours) == as_client_sends(theirs)


@pytest.mark.parametrize(
    "where",
    [
        {"tags_by_and": ["batchrun.batch=b", "batchrun.run=1"]},
        {"tags_by_and": ["batchrun.batch=b"], "created_after": datetime(2026, 11, 29, 5, 1, 2, 345678, UTC)},
        {"is_sub_job": True, "parent_job_url": "http://jma.test/api/Job/1"},
    ],
)
def test_job_query_body_is_the_clients(where: dict) -> None:
    theirs = JobQueryParameters(
        pagination=Pagination(page_size=1000, page_offset=0),
        sort_by=JobSortPropertiesSortParameter(property_name=JobSortProperties.created_at, sort_type=SortTypes.ascending),
        filter=JobFilterParameter(**where),
    )
    assert json.loads(job_query_body(page_size=1000, **where)) == as_client_sends(theirs)


def test_step_query_body_is_the_clients() -> None:
    theirs = ProcessingStepQueryParameters(
        pagination=Pagination(page_size=50, page_offset=0),
        sort_by=ProcessingStepSortPropertiesSortParameter(
            property_name=ProcessingStepSortProperties.version, sort_type=SortTypes.descending
        ),
        filter=ProcessingStepFilterParameter(
            function_name="add", function_name_match_type=FunctionNameMatchTypes.match_exact
        ),
    )
    assert json.loads(step_query_body(page_size=50, function_name="add")) == as_client_sends(theirs)


@pytest.fixture(scope="module")
def three_versions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local JMA with the step ``scale`` in three versions; yields its URL."""
    from batchrun.localjma import LocalJMA

    folder = tmp_path_factory.mktemp("versions")
    for number in range(3):
        (folder / f"scale_{number}.py").write_text(
            f"from batchrun import version\n\n@version('{number + 1}.0.0')\n"
            f"def scale(x: float) -> float:\n    return x * {number + 1}\n"
        )
    with LocalJMA(folder / "jma.sqlite3", steps=[str(path) for path in folder.glob("*.py")], workers=0) as server:
        yield server.url


def test_step_pages_read_what_the_client_reads(three_versions: str) -> None:
    """Pages of one step each, followed by their next links, list what the client lists."""
    with httpx.Client(base_url=three_versions) as client:
        root = Entity.model_validate_json(client.get(enter_jma(client).processing_step_root_link.get_url()).content)
        (query,) = root.action_hrefs("CreateProcessingStepQuery")
        created = client.post(query, content=step_query_body(page_size=1, function_name="scale"),
                              headers={"Content-Type": "application/json"})
        page: StepPage | None = StepPage.model_validate_json(client.get(created.headers["Location"]).content)
        ours = []
        while page is not None:
            ours += [(step.self_href, step.properties.version, bool(step.properties.parameter_schema))
                     for step in page.items]
            page = None if page.next_href is None else StepPage.model_validate_json(client.get(page.next_href).content)
        listed = ProcessingStepQuery.create(
            client, function_name="scale", function_name_match_type=FunctionNameMatchTypes.match_exact,
            sort_by_property_name=ProcessingStepSortProperties.version, sort_by_sort_type=SortTypes.descending,
        ).execute()
        theirs = [(str(step.self_link.get_url()), step.version, bool(step.parameter_schema))
                  for result in listed.iter() for step in result.processing_steps]
    assert ours == theirs and [version for _, version, _ in ours] == ["3.0.0", "2.0.0", "1.0.0"]


def test_a_missing_link_or_action_is_named() -> None:
    entity = Entity.model_validate({"class": ["EntryPoint"], "links": [{"rel": ["Info"], "href": "/api/Info"}]})
    assert entity.link_hrefs("Info") == ("/api/Info",)
    with pytest.raises(ProtocolError, match="the EntryPoint entity has no JobsRoot or WorkDataRoot link"):
        entity.link_hrefs("Info", "JobsRoot", "WorkDataRoot")
    with pytest.raises(ProtocolError, match="has no RapidSetupJob action"):
        entity.action_hrefs("RapidSetupJob")
    with pytest.raises(ValueError, match="expected a ProcessingStepQueryResult"):
        StepPage.model_validate({"class": ["JobQueryResult"]})
