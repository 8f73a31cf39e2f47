"""batchrun's own request bodies and page readers against pinexq-client, the authority on the wire."""

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

from batchrun.client import transport
from batchrun.client.records import RemoteJob
from batchrun.client.transport import PAGE_HEADERS, QUERY_HEADERS
from batchrun.client.wire import (
    READ_ONLY_ITEMS,
    Entity,
    ProtocolError,
    StepPage,
    job_page,
    job_query_body,
    rapid_setup_body,
    step_query_body,
)
from batchrun.identity import TAG_BATCH
from tests.support import STEPS_DIR

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


@pytest.fixture(scope="module")
def jobs_with_outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A local JMA with two finished jobs that wrote WorkData and one never started; yields its
    URL and the tag of those jobs."""
    from pinexq.client.job_management import Job

    from batchrun.localjma import LocalJMA

    tag = f"{TAG_BATCH}=wire"
    steps = [str(STEPS_DIR / "lineage_steps.py")]
    with LocalJMA(tmp_path_factory.mktemp("jobs") / "jma.sqlite3", steps=steps, workers=1) as server:
        with httpx.Client(base_url=server.url) as client:
            for label in ("one", "two"):
                job = Job(client).create(f"wire: {label}").set_tags([tag, f"label={label}"])
                job.select_processing("two_outputs").configure_parameters(label=label)
                job.start().wait_for_completion(timeout_s=30)
            Job(client).create("wire: idle").set_tags([tag])
        yield server.url, tag


def read_jobs(url: str, tag: str, read_only: bool) -> tuple[list[RemoteJob], list[str]]:
    """Every job of ``tag`` as batchrun reads them from pages of one job, asking for read-only
    items or not; and the preferences each page honoured."""
    headers = PAGE_HEADERS if read_only else {}
    with httpx.Client(base_url=url) as client:
        query = job_query_body(page_size=1, tags_by_and=[tag])
        prefer = QUERY_HEADERS if read_only else {"Content-Type": "application/json", "Prefer": "return=representation"}
        answer = client.post("/api/JobsRoot/Query", content=query, headers=prefer)
        jobs, applied = [], []
        while True:
            applied.append(answer.headers.get("Preference-Applied", ""))
            page = job_page(answer.content)
            jobs += map(RemoteJob.from_entity, page.items)
            if page.next_href is None:
                return jobs, applied
            answer = client.get(page.next_href, headers=headers)


def test_job_records_read_what_the_client_reads(jobs_with_outputs: tuple[str, str]) -> None:
    """Read-only items (the local JMA) and full items (any platform) give the same records, and
    they hold what pinexq-client reads from the same jobs."""
    from pinexq.client.job_management import JobQuery, WorkData

    url, tag = jobs_with_outputs
    lean, applied = read_jobs(url, tag, read_only=True)
    full, plain = read_jobs(url, tag, read_only=False)

    assert all(READ_ONLY_ITEMS in answer for answer in applied)
    assert not any(READ_ONLY_ITEMS in answer for answer in plain)
    assert lean == full and len(lean) == 3
    with httpx.Client(base_url=url) as client:
        theirs = {str(job.self_link().get_url()): job for job in JobQuery.create(client, tags_by_and=[tag]).to_list()}
        for record in lean:
            job = theirs[record.url].job_hco
            assert (record.name, record.state, list(record.tags)) == (job.name, job.state.value, job.tags)
            assert (record.result, record.created_at, record.completed_at) == (job.result, job.created_at,
                                                                                  job.completed_at)
            assert (record.error, record.started_at) == (job.error_description, job.started_at)
            label = next((tag.split("=")[1] for tag in record.tags if tag.startswith("label=")), None)
            assert record.parameters == (None if label is None else json.dumps({"label": label}))
            their_outputs = [
                (slot.name, WorkData.from_hco(data).work_data_hco.name, str(data.self_link.get_url()))
                for slot in job.output_dataslots for data in slot.assigned_workdatas
            ]
            assert [(data.slot, data.name, data.url) for data in record.outputs] == their_outputs
    assert sorted(len(record.outputs) for record in lean) == [0, 2, 2]


@pytest.mark.parametrize(("body", "message"), [
    (b"<html>", "a JobQueryResult page is not JSON"),
    (b'{"class": ["JobsRoot"]}', r"expected a JobQueryResult, got an entity of class \['JobsRoot'\]"),
    (b'[1]', "expected a JobQueryResult, got an entity of class list"),
    (b'{"class": "JobQueryResult"}', "an entity's class is str, not a list"),
])
def test_a_page_that_is_no_job_page_is_named(body: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        job_page(body)


SELF = [{"rel": ["self"], "href": "http://jma.test/api/Job/1"}]


@pytest.mark.parametrize(("job", "message"), [
    ({"properties": {"Name": "a"}, "links": []}, "a job on a query page has no self link"),
    ({"properties": {"Tags": "a=b"}, "links": SELF}, "property Tags is not a list of strings"),
    ({"properties": {"Tags": [1]}, "links": SELF}, "property Tags is not a list of strings"),
    ({"properties": {"State": 3}, "links": SELF}, "property State is int, not a string"),
    ({"properties": {"CreatedAt": "yesterday"}, "links": SELF}, "property CreatedAt is not an ISO 8601 date-time"),
    ({"properties": [], "links": SELF}, "an entity's properties are list, not an object"),
    ({"properties": {}, "links": [{"rel": ["self"]}]}, "a link without an href"),
])
def test_a_job_entity_that_breaks_the_protocol_is_named(job: dict, message: str) -> None:
    page = {"class": ["JobQueryResult"], "entities": [{"class": ["Job"], **job}]}
    with pytest.raises(ProtocolError, match=message):
        [RemoteJob.from_entity(item) for item in job_page(json.dumps(page).encode()).items]


def test_a_faulty_job_is_named_by_its_place_on_the_page() -> None:
    page = {"class": ["JobQueryResult"], "entities": [
        {"class": ["Job"], "properties": {"State": "Completed"}, "links": SELF},
        {"class": ["Job"], "properties": {"State": 3}, "links": SELF},
    ]}
    with pytest.raises(ProtocolError, match=r"^job 2 of the page: property State is int, not a string$"):
        job_page(json.dumps(page).encode())


def test_platform_timestamps_are_read_to_the_microsecond() -> None:
    """.NET writes seven fractional digits; the record keeps six, as the client's models do."""
    page = {"class": ["JobQueryResult"], "entities": [
        {"class": ["Job"], "properties": {"CreatedAt": "2026-12-04T22:50:54.1643671Z"}, "links": SELF}]}
    (job,) = map(RemoteJob.from_entity, job_page(json.dumps(page).encode()).items)
    assert job.created_at == datetime(2026, 12, 4, 22, 50, 54, 164367, tzinfo=UTC)


@pytest.mark.parametrize("link_header", [True, False], ids=["link-header", "body-links-only"])
def test_every_page_is_read_once_whichever_link_leads_to_it(
    jobs_with_outputs: tuple[str, str], link_header: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of one job: the local JMA names each next page in a Link header too; a platform
    that does not is followed by the links in its pages."""
    url, _ = jobs_with_outputs
    monkeypatch.setattr(transport, "PAGE_SIZE", 1)
    if not link_header:
        monkeypatch.setattr(transport, "_next_link", lambda response: None)
    with transport.Platform(url, None) as platform:
        jobs = platform.owned_jobs("wire")
    assert [job.name for job in jobs] == ["wire: one", "wire: two", "wire: idle"]


def test_a_page_names_its_next_page_in_a_link_header(jobs_with_outputs: tuple[str, str]) -> None:
    url, tag = jobs_with_outputs
    with httpx.Client(base_url=url) as client:
        query = job_query_body(page_size=2, tags_by_and=[tag])
        first = client.post("/api/JobsRoot/Query", content=query, headers=QUERY_HEADERS)
        following = next(link["href"] for link in first.json()["links"] if "next" in link["rel"])
        last = client.get(following)

    assert first.links["next"]["url"] == following
    assert "next" not in {rel for link in last.json()["links"] for rel in link["rel"]}
    assert "Link" not in last.headers


@pytest.mark.parametrize(("logs", "metrics"), [
    ("http://jma.test/api/Job/1/Logs", "http://jma.test/api/Job/1/Metrics"),  # below the job: kept as a path
    ("http://logs.test/job/1", "/api/Job/1/Metrics"),  # elsewhere, and relative to the job's server
])
def test_a_jobs_logs_and_metrics_links_are_read_as_urls(logs: str, metrics: str) -> None:
    links = [*SELF, {"rel": ["Logs"], "href": logs}, {"rel": ["Metrics"], "href": metrics}]
    page = {"class": ["JobQueryResult"], "entities": [{"class": ["Job"], "properties": {}, "links": links}]}

    (job,) = map(RemoteJob.from_entity, job_page(json.dumps(page).encode()).items)

    assert job.logs_url == logs
    assert job.metrics_url == "http://jma.test/api/Job/1/Metrics"
