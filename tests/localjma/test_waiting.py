"""Waiting on jobs the way client code does: SSE-woken waits, polling, groups, failures."""

from __future__ import annotations

import json
import threading

import httpx
import pytest
from pinexq.client.core.polling import PollingException
from pinexq.client.job_management import Job, JobGroup, JobQuery, ProcessingStep
from pinexq.client.job_management.enterjma import create_pinexq_client
from pinexq.client.job_management.model import JobStates

from batchrun.localjma import LocalJMA
from tests.support import wait_until

pytestmark = pytest.mark.filterwarnings("error::UserWarning")


def _rapid(client: httpx.Client, step: str, parameters: dict[str, object], **options: object) -> Job:
    found = ProcessingStep.from_name(client, step)
    return Job(client).create_and_configure_rapidly(
        name=f"wait: {step}", processing_step_instance=found, parameters=json.dumps(parameters), **options
    )


def test_wait_for_state_polls_until_completed(client: httpx.Client) -> None:
    job = _rapid(client, "sleep_ms", {"ms": 100})

    job.wait_for_state(JobStates.completed, timeout_s=30, polling_interval_s=0.05)

    assert job.job_hco.state == JobStates.completed
    assert job.get_result() == 100
    assert job.job_hco.worker_id


def test_failing_step_raises_promptly_with_the_original_error(client: httpx.Client) -> None:
    job = _rapid(client, "fail_after", {"ms": 300, "message": "boom"})
    assert job.job_hco.state != JobStates.error  # so the wait below is woken by an event
    raised: list[PollingException] = []

    def wait() -> None:
        with pytest.raises(PollingException, match="RuntimeError: boom") as failed:
            job.wait_for_completion()
        raised.append(failed.value)

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    # A hang guard only: the job's event ends the wait, long before the client's 300 s fallback poll.
    wait_until(lambda: not waiter.is_alive(), timeout=60, what="the wait to raise")

    assert len(raised) == 1  # it raised with the step's error
    assert job.get_state() == JobStates.error
    assert job.job_hco.error_description.startswith("RuntimeError: boom")


def test_error_before_the_first_poll_still_wakes_the_waiter(client: httpx.Client) -> None:
    """The client's first GET in a wait does not check for Error; a re-sent event saves it."""
    job = _rapid(client, "fail", {"message": "early"}, start=False)
    with httpx.Client(base_url=str(client.base_url)) as other:
        other.post(f"{job.self_link().get_url()}/StartProcessing")
        wait_until(lambda: other.get(str(job.self_link().get_url())).json()["properties"]["State"] == "Error",
                   timeout=30, what="the job to fail")
    assert job.job_hco.state == JobStates.ready_for_processing  # the wait starts from a stale state

    with pytest.raises(PollingException, match="ValueError: early"):
        job.wait_for_completion(timeout_s=20)


def test_job_group_start_all_and_wait_all(client: httpx.Client, tag: str) -> None:
    for ms in (10, 30, 50):
        _rapid(client, "sleep_ms", {"ms": ms}, tags=[tag], start=False)
    group = JobQuery.create(client, tags_by_and=[tag]).to_job_group()

    group.start_all().wait_all(job_timeout_s=30)

    assert group.all_jobs_completed_ok(refresh_jobs=True)
    assert sorted(job.get_result() for job in group.get_jobs()) == [10, 30, 50]


def test_job_group_wait_any_returns_when_one_ends(client: httpx.Client) -> None:
    quick = _rapid(client, "sleep_ms", {"ms": 20})
    never_started = _rapid(client, "sleep_ms", {"ms": 20}, start=False)

    JobGroup().add_jobs([quick, never_started]).wait_any(timeout_s=30)

    assert quick.job_hco.state == JobStates.completed
    assert never_started.get_state() == JobStates.ready_for_processing


def test_caching_client_never_sees_stale_states(jma: LocalJMA) -> None:
    with create_pinexq_client(jma.url, api_key="unused", use_client_cache=True) as client:
        job = Job(client).create("wait: cached").select_processing("add")
        assert job.get_state() == JobStates.created
        job.configure_parameters(a=1, b=2)
        assert job.get_state() == JobStates.ready_for_processing
        job.start().wait_for_completion(timeout_s=30)
        assert job.get_state() == JobStates.completed
        assert job.get_result() == {"sum": 3.0, "product": 2.0}


def test_even_a_job_of_microseconds_starts_before_it_completes(client: httpx.Client) -> None:
    """The server records worker reports in batches; each keeps the time it happened."""
    jobs = [_rapid(client, "noop", {}) for _ in range(20)]

    JobGroup().add_jobs(jobs).wait_all(total_timeout_s=60)

    for job in jobs:
        job.refresh()
        assert job.job_hco.created_at <= job.job_hco.started_at < job.job_hco.completed_at
