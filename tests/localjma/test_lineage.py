"""Lineage-safe deletion: each rule refuses with its reason, then the allowed path works, and
``delete_with_associated`` deletes exactly what its flags ask for, for every combination."""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pinexq.client.job_management import Job, JobStates, ProcessingStep
from pinexq.client.job_management.tool.job import InputDataSlotParameterFlexible

from batchrun.client import Platform, delete_job
from batchrun.localjma import LocalJMA
from tests.localjma.conftest import SOURCES
from tests.localjma.test_workdata import upload
from tests.support import wait_until


def refusal(client: httpx.Client, url: str) -> str:
    """Force a Delete the entity does not offer; return the 409 problem's reason."""
    response = client.post(f"{url}/Delete", headers={"content-type": "application/json"})
    assert response.status_code == 409, response.text
    return str(response.json()["detail"])


def exists(client: httpx.Client, url: str) -> bool:
    status = client.get(url).status_code
    assert status in (200, 404)
    return status == 200


def produced(job: Job) -> list[str]:
    job.refresh()
    return [str(data.self_link.get_url()) for slot in job.get_output_data_slots() for data in slot.assigned_workdatas]


def test_a_running_job_cannot_be_deleted_nor_one_with_outputs_until_they_are_deleted(
    client: httpx.Client, tag: str, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    job = Job(client).create("lineage: running").set_tags([tag]).select_processing("two_outputs")
    job.configure_parameters(gate=str(gate)).start()
    url = str(job.self_link().get_url())
    wait_until(lambda: job.get_state() == JobStates.processing, what="the job to run")
    assert not job.job_hco.delete_action  # type: ignore[union-attr]
    assert "the job is Processing" in refusal(client, url)
    gate.touch()
    job.wait_for_completion(timeout_s=30)
    outputs = produced(job)
    assert len(outputs) == 2 and not job.job_hco.delete_action  # type: ignore[union-attr]
    assert "the job has 2 output WorkData" in refusal(client, url)
    assert "AllowOutputDataDeletion on the job" in refusal(client, outputs[0])  # outputs are kept by default
    job.allow_output_data_deletion()
    for output in outputs:
        assert client.post(f"{output}/Delete", headers={"content-type": "application/json"}).status_code == 200
    job.refresh().delete()
    assert not exists(client, url) and not any(exists(client, output) for output in outputs)


def test_a_pending_job_cannot_be_deleted(database: Path) -> None:
    with LocalJMA(database, steps=SOURCES, workers=0) as server, httpx.Client(base_url=server.url) as client:
        job = Job(client).create("lineage: pending").select_processing("add").configure_parameters(a=1, b=2).start()
        assert job.get_state() == JobStates.pending
        assert "the job is Pending" in refusal(client, str(job.self_link().get_url()))


def test_a_job_with_sub_jobs_cannot_be_deleted_until_they_are(client: httpx.Client) -> None:
    parent = Job(client).create("lineage: parent")
    child = parent.create_sub_job("lineage: child")
    parent_url, child_url = str(parent.self_link().get_url()), str(child.self_link().get_url())
    assert "the job has 1 sub-job(s)" in refusal(client, parent_url)
    child.delete()
    assert not exists(client, child_url) and exists(client, parent_url)
    parent.refresh().delete()
    assert not exists(client, parent_url)


def test_an_input_is_free_again_once_the_job_using_it_is_deleted(client: httpx.Client, tag: str) -> None:
    text = upload(client, tag, b"in", "in.txt", "text/plain")
    job = Job(client).create("lineage: user").set_tags([tag]).select_processing("shout")
    job.assign_input_dataslot(0, work_data_instance=text).start().wait_for_completion(timeout_s=30)
    text_url, job_url = str(text.self_link().get_url()), str(job.self_link().get_url())
    assert "a job uses it as input" in refusal(client, text_url)
    job.allow_output_data_deletion().delete_with_associated()
    assert not exists(client, job_url) and exists(client, text_url)  # inputs are kept by default
    text.refresh().delete()
    assert not exists(client, text_url)


@dataclass
class Tree:
    """parent (shout) → child (shout) → grandchild (two_outputs), each with outputs; the
    shouts read an uploaded input each."""

    jobs: list[str]
    inputs: list[str]
    outputs: dict[str, list[str]]
    root: Job


def build_tree(client: httpx.Client, tag: str) -> Tree:
    shout = ProcessingStep.from_name(client, "shout")
    chart = ProcessingStep.from_name(client, "two_outputs")
    inputs = [upload(client, tag, f"input {n}".encode(), f"in{n}.txt", "text/plain") for n in range(2)]
    jobs: list[Job] = []
    for number, step in enumerate([shout, shout, chart]):
        selection = [
            InputDataSlotParameterFlexible.create(index=0, work_data_instances=[data]) for data in inputs[number:][:1]
        ]
        jobs.append(Job(client).create_and_configure_rapidly(
            name=f"lineage tree {number}", processing_step_instance=step, tags=[tag],
            parent_job_instance=jobs[-1] if jobs else None, allow_output_data_deletion=True,
            input_data_slots=selection or None,
        ))
    urls = [str(job.self_link().get_url()) for job in jobs]
    outputs = {url: produced(job.wait_for_completion(timeout_s=30)) for url, job in zip(urls, jobs, strict=True)}
    return Tree(urls, [str(data.self_link().get_url()) for data in inputs], outputs, jobs[0])


@pytest.mark.parametrize(("outputs", "inputs", "subjobs"), list(itertools.product([True, False], repeat=3)))
def test_delete_with_associated_deletes_exactly_what_the_flags_say(
    client: httpx.Client, tag: str, outputs: bool, inputs: bool, subjobs: bool
) -> None:
    tree = build_tree(client, tag)
    parent = tree.jobs[0]
    with warnings.catch_warnings(record=True):  # the client warns about what it may not delete
        warnings.simplefilter("always")
        tree.root.delete_with_associated(
            delete_output_workdata=outputs, delete_input_workdata=inputs, delete_subjobs_with_data=subjobs
        )
    whole_tree = outputs and subjobs  # a job goes only when its outputs and sub-jobs went first
    gone = set(tree.jobs) | {url for urls in tree.outputs.values() for url in urls} if whole_tree else set()
    if whole_tree and inputs:
        gone |= set(tree.inputs)
    if outputs and not subjobs:
        gone |= set(tree.outputs[parent])  # the parent's own outputs; the parent stays (it has a sub-job)
    everything = [*tree.jobs, *tree.inputs, *(url for urls in tree.outputs.values() for url in urls)]
    assert {url for url in everything if not exists(client, url)} == gone
    for url in tree.inputs:
        if url not in gone:
            assert client.get(f"{url}/Download").status_code == 200  # untouched, content included


def test_batchrun_cleanup_deletes_a_tree_with_data(jma: LocalJMA, client: httpx.Client, tag: str) -> None:
    tree = build_tree(client, tag)
    with Platform(jma.url, None) as platform:
        delete_job(
            platform, tree.jobs[0],
            delete_output_workdata=True, delete_input_workdata=True, delete_subjobs_with_data=True,
        )
    everything = [*tree.jobs, *tree.inputs, *(url for urls in tree.outputs.values() for url in urls)]
    assert not any(exists(client, url) for url in everything)
