"""Sub-jobs through the real client, including a step that creates its own sub-jobs while it runs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pinexq.client.core.polling import PollingException
from pinexq.client.job_management import Job, JobQuery, JobStates, ProcessingStep

from batchrun.localjma import LocalJMA
from tests.localjma.conftest import SOURCES


def children_of(client: httpx.Client, parent: Job) -> list[Job]:
    return JobQuery.create(client, parent_job_url=str(parent.self_link().get_url())).to_list()


def test_sub_jobs_link_to_their_parent_and_are_counted_by_state(client: httpx.Client, tag: str) -> None:
    parent = Job(client).create("subjobs: parent").set_tags([tag])
    created = parent.create_sub_job("subjobs: created").set_tags([tag])
    step = ProcessingStep.from_name(client, "add")
    started = Job(client).create_and_configure_rapidly(
        name="subjobs: rapid", parent_job_instance=parent, processing_step_instance=step,
        parameters='{"a": 1, "b": 2}', tags=[tag],
    )
    assert created.job_hco is not None and started.job_hco is not None
    assert started.job_hco.parent_link.get_url() == parent.self_link().get_url()
    started.wait_for_completion(timeout_s=30)
    assert parent.sub_jobs_in_state(JobStates.created) == 1
    assert parent.sub_jobs_in_state(JobStates.completed) == 1
    assert parent.wait_for_sub_jobs_complete(timeout_s=10, polling_interval_s=0.05) is parent
    assert {job.get_name() for job in children_of(client, parent)} == {"subjobs: created", "subjobs: rapid"}
    assert JobQuery.create(client, tags_by_and=[tag], is_sub_job=False).count() == 1


def test_a_failed_sub_job_fails_the_wait(client: httpx.Client) -> None:
    parent = Job(client).create("subjobs: failing parent")
    child = parent.create_sub_job("subjobs: failing child").select_processing("fail_after")
    child.configure_parameters(ms=0).start()
    with pytest.raises(PollingException, match="1 sub-jobs in state error"):
        parent.wait_for_sub_jobs_complete(timeout_s=30, polling_interval_s=0.05)


def test_a_step_creates_sub_jobs_through_the_api_while_it_runs(client: httpx.Client, tag: str) -> None:
    parent = Job(client).create("subjobs: spawner").set_tags([tag]).select_processing("spawn_children")
    assert parent.configure_parameters(children=2).start().wait_for_completion(timeout_s=60).get_result() == 2
    children = children_of(client, parent)
    assert sorted(child.get_name() for child in children) == ["child 0", "child 1"]
    for child in children:
        assert child.get_state() == JobStates.completed
        assert [len(slot.assigned_workdatas) for slot in child.get_output_data_slots()] == [1, 1]
    assert not parent.refresh().job_hco.delete_action  # type: ignore[union-attr]  # it has sub-jobs


def test_steps_reach_a_server_with_an_api_key(database: Path) -> None:
    key = "sub-job-secret-key"
    with LocalJMA(database, steps=SOURCES, workers=2, api_key=key) as server, httpx.Client(
        base_url=server.url, headers={"x-api-key": key}
    ) as client:
        parent = Job(client).create("subjobs: keyed").select_processing("spawn_children")
        parent.configure_parameters(children=1).start()
        assert parent.wait_for_completion(timeout_s=60).get_result() == 1
        assert len(children_of(client, parent)) == 1
