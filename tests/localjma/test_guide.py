"""Every snippet of PineXQ's "Starting a job" guide, run unmodified against the local JMA."""

from __future__ import annotations

import json

import httpx
import pytest
from pinexq.client.core.hco.unavailable import NotAvailableException
from pinexq.client.job_management import Job, JobQuery, ProcessingStep
from pinexq.client.job_management.model import JobStates

pytestmark = pytest.mark.filterwarnings("error::UserWarning")


def test_create_gives_a_created_job_that_cannot_start_yet(client: httpx.Client) -> None:
    job = Job(client).create(name="guide: create")

    assert job.job_hco.state == JobStates.created
    assert job.get_name() == "guide: create"
    with pytest.raises(NotAvailableException):
        job.start()


def test_select_by_name_and_version(client: httpx.Client) -> None:
    job = Job(client).create(name="guide: by name")

    job.select_processing(function_name="echo", function_version="1.0.0")

    assert job.job_hco.processing.function_name == "echo"
    assert job.job_hco.processing.version == "1.0.0"
    assert job.job_hco.state == JobStates.created  # 'text' has no default: not ready yet


def test_select_by_instance_and_by_link(client: httpx.Client) -> None:
    step = ProcessingStep.from_name(client, "add")

    by_instance = Job(client).create(name="guide: by instance").select_processing(processing_step_instance=step)
    by_link = Job(client).create(name="guide: by link").select_processing(processing_step_link=step.self_link())

    for job in (by_instance, by_link):
        assert job.job_hco.processing.function_name == "add"
        assert job.job_hco.selected_processing_step_link.get_url() == step.self_link().get_url()


def test_tags_parameters_start_wait_result_delete(client: httpx.Client, tag: str) -> None:
    job = Job(client).create(name="guide: step by step")
    job.select_processing(function_name="echo")
    job.set_tags([tag, "guide"])
    job.configure_parameters(text="ab", times=3)
    assert job.job_hco.state == JobStates.ready_for_processing
    assert job.job_hco.tags == [tag, "guide"]

    job.start()
    assert job.job_hco.state in (JobStates.pending, JobStates.processing, JobStates.completed)
    job.wait_for_completion(timeout_s=30)

    assert job.get_state() == JobStates.completed
    assert job.get_result() == "ababab"
    assert job.job_hco.started_at is not None and job.job_hco.completed_at >= job.job_hco.started_at
    url = job.self_link().get_url()
    job.delete()
    assert not JobQuery.create(client, tags_by_and=[tag]).exists()
    assert client.get(url).status_code == 404


def test_fluent_chain(client: httpx.Client) -> None:
    job = (
        Job(client)
        .create(name="guide: fluent")
        .select_processing(function_name="add")
        .configure_parameters(a=2, b=5)
        .start()
        .wait_for_completion(timeout_s=30)
    )

    assert job.get_result() == {"sum": 7.0, "product": 10.0}
    url = job.self_link().get_url()
    assert job.delete().job_hco is None
    assert client.get(url).json()["status"] == 404


def test_from_name_and_create_and_configure_rapidly(client: httpx.Client, tag: str) -> None:
    step = ProcessingStep.from_name(client, "echo", "1.0.0")

    job = Job(client).create_and_configure_rapidly(
        name="guide: rapid",
        processing_step_instance=step,
        parameters=json.dumps({"text": "x", "times": 2}),
        tags=[tag],
    )
    job.wait_for_completion(timeout_s=30)

    assert job.get_result() == "xx"
    assert job.job_hco.tags == [tag]
    assert json.loads(job.job_hco._entity.properties.configured_parameters) == {"text": "x", "times": 2}


def test_rapid_setup_without_start_is_ready(client: httpx.Client) -> None:
    step = ProcessingStep.from_name(client, "add")

    job = Job(client).create_and_configure_rapidly(
        name="guide: rapid, not started", processing_step_url=step.self_link(),
        parameters=json.dumps({"a": 1, "b": 1}), start=False,
    )

    assert job.job_hco.state == JobStates.ready_for_processing
    assert job.start().wait_for_completion(timeout_s=30).get_result() == {"sum": 2.0, "product": 1.0}


def test_sub_job_links_to_its_parent_and_blocks_its_deletion(client: httpx.Client) -> None:
    parent = Job(client).create(name="guide: parent")
    child = parent.create_sub_job("guide: child")

    assert child.job_hco.parent_link.get_url() == parent.self_link().get_url()
    assert parent.sub_jobs_in_state(JobStates.created) == 1
    assert not parent.refresh().job_hco.delete_action.is_available()
    urls = [str(job.self_link().get_url()) for job in (child, parent)]
    child.delete()
    parent.refresh().delete()
    assert [client.get(url).status_code for url in urls] == [404, 404]
