"""JobQuery and ProcessingStep queries through the real client: filters, sorting, paging."""

from __future__ import annotations

import json

import httpx
import pytest
from pinexq.client.job_management import Job, JobQuery, ProcessingStep, ProcessingStepQuery, enter_jma
from pinexq.client.job_management.model import JobSortProperties, JobStates, SortTypes

pytestmark = pytest.mark.filterwarnings("error::UserWarning")


def _jobs(client: httpx.Client, tag: str, count: int, **extra_tags: str) -> list[Job]:
    step = ProcessingStep.from_name(client, "add")
    jobs = []
    for index in range(count):
        tags = [tag, f"index={index}", *(f"{k}={v}" for k, v in extra_tags.items())]
        jobs.append(
            Job(client).create_and_configure_rapidly(
                name=f"query job {index}", processing_step_instance=step,
                parameters=json.dumps({"a": index, "b": 1}), tags=tags, start=False,
            )
        )
    return jobs


def test_tags_by_and_and_by_or(client: httpx.Client, tag: str) -> None:
    _jobs(client, tag, 3)

    assert JobQuery.create(client, tags_by_and=[tag]).count() == 3
    assert JobQuery.create(client, tags_by_and=[tag, "index=1"]).count() == 1
    assert JobQuery.create(client, tags_by_and=[tag, "index=9"]).count() == 0
    assert JobQuery.create(client, tags_by_or=["index=0", "index=2"], tags_by_and=[tag]).count() == 2


def test_name_state_and_processing_step_filters(client: httpx.Client, tag: str) -> None:
    jobs = _jobs(client, tag, 3)
    jobs[0].start().wait_for_completion(timeout_s=30)
    echo_job = Job(client).create("query job echo").select_processing("echo").set_tags([tag])

    assert JobQuery.create(client, tags_by_and=[tag], name="JOB 1").count() == 1  # contains, any case
    assert JobQuery.create(client, tags_by_and=[tag], state=JobStates.completed).count() == 1
    assert JobQuery.create(client, tags_by_and=[tag], state=JobStates.ready_for_processing).count() == 2
    echo_url = echo_job.job_hco.selected_processing_step_link.get_url()
    found = JobQuery.create(client, tags_by_and=[tag], processing_step_url=str(echo_url)).one()
    assert found.job_hco.name == "query job echo"


def test_sorting_by_name_and_creation(client: httpx.Client, tag: str) -> None:
    _jobs(client, tag, 3)

    def names(prop: JobSortProperties, order: SortTypes) -> list[str]:
        query = JobQuery.create(client, tags_by_and=[tag], sort_by_property_name=prop, sort_by_sort_type=order)
        return [job.name for job in query.execute().jobs]

    ascending = ["query job 0", "query job 1", "query job 2"]
    assert names(JobSortProperties.name, SortTypes.ascending) == ascending
    assert names(JobSortProperties.name, SortTypes.descending) == ascending[::-1]
    assert names(JobSortProperties.created_at, SortTypes.ascending) == ascending
    assert names(JobSortProperties.created_at, SortTypes.descending) == ascending[::-1]
    default = [job.name for job in JobQuery.create(client, tags_by_and=[tag]).execute().jobs]
    assert default == ascending[::-1]  # newest first


def test_count_exists_first_one(client: httpx.Client, tag: str) -> None:
    empty = JobQuery.create(client, tags_by_and=[tag])
    assert empty.count() == 0 and not empty.exists() and empty.first() is None
    with pytest.raises(Exception, match="No entities found"):
        empty.one()

    _jobs(client, tag, 2)
    query = JobQuery.create(client, tags_by_and=[tag])
    assert query.exists() and query.count() == 2
    assert query.first().job_hco.name == "query job 1"
    with pytest.raises(Exception, match="exactly one entity, but found 2"):
        query.one()
    assert JobQuery.create(client, tags_by_and=[tag, "index=0"]).one().job_hco.name == "query job 0"


def test_paging_follows_next_links(client: httpx.Client, tag: str) -> None:
    _jobs(client, tag, 5)
    query = JobQuery.create(client, tags_by_and=[tag], page_size=2)

    pages = list(query.execute().iter())
    jobs = query.to_list()

    assert [page.current_entities_count for page in pages] == [2, 2, 1]
    assert {page.total_entities for page in pages} == {5}
    assert sorted(job.job_hco.name for job in jobs) == [f"query job {i}" for i in range(5)]
    assert len(JobQuery.create(client, tags_by_and=[tag], page_size=2, page_offset=4).execute().jobs) == 1


def test_query_links_are_stateless(client: httpx.Client, tag: str) -> None:
    _jobs(client, tag, 3)
    result = JobQuery.create(client, tags_by_and=[tag], page_size=2).execute()
    next_url = result.next_link.get_url()
    _jobs(client, tag, 1)  # the query is re-run on every GET

    again = client.get(str(next_url)).json()
    assert again["properties"]["TotalEntities"] == 4
    assert again["properties"]["PreviousEntitiesCount"] == 2


def _names(page: dict) -> list[str]:
    return [item["properties"]["Name"] for item in page["entities"]]


def _next(page: dict) -> str | None:
    return next((link["href"] for link in page["links"] if "next" in link["rel"]), None)


def test_pages_in_creation_order_show_every_job_once_while_jobs_come_and_go(client: httpx.Client, tag: str) -> None:
    """Each page starts after the last job read: jobs created or deleted meanwhile never make
    the following pages skip or repeat one."""
    jobs = _jobs(client, tag, 7)
    query = JobQuery.create(client, tags_by_and=[tag], page_size=2, sort_by_property_name=JobSortProperties.created_at,
                            sort_by_sort_type=SortTypes.ascending)
    page = client.get(str(query.execute().self_link.get_url())).json()
    seen = _names(page)
    jobs[0].delete()  # read already: with offsets, the next page would skip job 2
    jobs[5].delete()  # not read yet: never shown
    _jobs(client, tag, 1, late="yes")  # "query job 0" again, created after every other
    while (href := _next(page)) is not None:
        page = client.get(href).json()
        seen += _names(page)
        assert page["properties"]["TotalEntities"] == 6  # counted as it is when the page is read

    assert seen == ["query job 0", "query job 1", "query job 2", "query job 3", "query job 4", "query job 6",
                    "query job 0"]


def test_newest_first_pages_go_on_from_the_last_job_read(client: httpx.Client, tag: str) -> None:
    _jobs(client, tag, 5)
    first = JobQuery.create(client, tags_by_and=[tag], page_size=2).execute()
    _jobs(client, tag, 2, late="yes")  # newer than the cursor: before it in this order
    page = client.get(str(first.next_link.get_url())).json()
    names = [job.name for job in first.jobs] + _names(page)
    while (href := _next(page)) is not None:
        page = client.get(href).json()
        names += _names(page)

    assert names == [f"query job {index}" for index in (4, 3, 2, 1, 0)]
    assert page["properties"]["TotalEntities"] == 7


def test_a_damaged_cursor_is_refused(client: httpx.Client, tag: str) -> None:
    _jobs(client, tag, 3)
    href = _next(client.get(str(JobQuery.create(client, tags_by_and=[tag], page_size=2).execute()
                                    .self_link.get_url())).json())
    assert href is not None and "&after=" in href
    answer = client.get(href.split("&after=")[0] + "&after=x1")
    assert answer.status_code == 400


def test_remaining_and_used_tags(client: httpx.Client, tag: str) -> None:
    _jobs(client, tag, 2, colour="red")

    result = JobQuery.create(client, tags_by_and=[tag], include_remaining_tags=True).execute()
    used = enter_jma(client).job_root_link.navigate().used_tags_link.navigate().tags

    assert result.remaining_tags == ["colour=red", "index=0", "index=1"]
    assert {tag, "colour=red", "index=1"} <= set(used)


def test_page_size_limit_and_tql_are_rejected_clearly(client: httpx.Client) -> None:
    root = "/api/JobsRoot/Query"
    too_big = client.post(root, json={"Pagination": {"PageSize": 1001}, "Filter": {}})
    tql = client.post(root, json={"Filter": {"TagQueryExpression": "a and b"}})

    assert too_big.status_code == 400 and "PageSize" in too_big.json()["detail"]
    assert tql.status_code == 400 and "TagsByAnd" in tql.json()["detail"]
    assert tql.headers["content-type"] == "application/problem+json"


def test_step_queries_use_semver(client: httpx.Client, tag: str) -> None:
    name = f"versions-{tag[-8:]}"
    manifest = {"function_name": name, "parameters": None, "returns": {}, "input_dataslots": [],
                "output_dataslots": []}
    for version in ["1.9.0", "1.10.0", "1.2.0", "2.0.0-rc1"]:
        ProcessingStep(client).create({**manifest, "version": version})
    ProcessingStep.from_name(client, name, "1.2.0").deprecate("replaced")

    def versions(**filters: object) -> list[str]:
        query = ProcessingStepQuery.create(client, function_name=name, **filters)
        return [step.processing_step_hco.version for step in query.to_list()]

    assert versions() == ["2.0.0-rc1", "1.10.0", "1.9.0", "1.2.0"]
    assert versions(version="^1.9") == ["1.10.0", "1.9.0"]
    assert versions(version="1.9.0") == ["1.9.0"]
    assert versions(show_prerelease=False, show_deprecated=False) == ["1.10.0", "1.9.0"]
    assert versions(show_deprecated=True) == ["1.2.0"]
    assert ProcessingStep.from_name(client, name).processing_step_hco.version == "1.10.0"
    assert ProcessingStep.from_name(client, name, allow_prerelease=True).processing_step_hco.version == "2.0.0-rc1"
    with pytest.raises(NameError, match=r"Available versions: .*1\.10\.0"):
        ProcessingStep.from_name(client, name, "3.0.0")
