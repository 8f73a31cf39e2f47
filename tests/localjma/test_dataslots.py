"""Data slots through the real client: inputs selected from WorkData, outputs that become WorkData."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from pinexq.client.core import ApiException
from pinexq.client.core.exceptions import NotAvailableException
from pinexq.client.job_management import Job, JobQuery, JobStates, ProcessingStep, WorkData
from pinexq.client.job_management.tool.job import InputDataSlotParameterFlexible
from pinexq.client.job_management.tool.workdata import WorkDataQuery

from batchrun.localjma import LocalJMA
from tests.localjma.test_workdata import forced, upload
from tests.support import wait_until


def outputs(job: Job) -> dict[str, list[WorkData]]:
    """The WorkData in each output slot, by slot name, as the job shows them now."""
    job.refresh()
    return {
        slot.name or "": [WorkData.from_hco(data) for data in slot.assigned_workdatas]
        for slot in job.get_output_data_slots()
    }


def test_two_outputs_are_workdata_while_the_job_runs(client: httpx.Client, tag: str, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    job = Job(client).create("slots: two outputs").set_tags([tag]).select_processing("two_outputs")
    job.configure_parameters(label="first", gate=str(gate)).start()

    def both_written() -> dict[str, list[WorkData]] | None:
        produced = outputs(job)
        return produced if all(produced.values()) else None

    produced = wait_until(both_written, timeout=30, what="both outputs to be written")
    assert job.get_state() == JobStates.processing  # visible while the job is still running
    summary, chart = produced["summary"][0], produced["chart"][0]
    assert summary.work_data_hco is not None and chart.work_data_hco is not None
    assert (summary.work_data_hco.name, summary.work_data_hco.media_type) == ("summary.json", "application/json")
    assert (chart.work_data_hco.name, chart.work_data_hco.media_type) == ("first.png", "image/png")
    assert summary.work_data_hco.tags == ["kind=summary"] and chart.work_data_hco.tags == ["label=first"]
    assert json.loads(summary.download()) == {"label": "first"}
    assert chart.download() == bytes(range(256)) * 3  # what two_outputs writes: binary, not UTF-8
    producer = chart.work_data_hco.producer_job_link.navigate()
    assert producer.self_link.get_url() == job.self_link().get_url()
    step = chart.work_data_hco.producer_processing_step_link.navigate()
    assert step.function_name == "two_outputs"
    gate.touch()
    assert job.wait_for_completion(timeout_s=30).get_result() == 2
    by_step = WorkDataQuery.create(client, producer_processing_step_url=str(step.self_link.get_url()))
    assert {summary.self_link().get_url(), chart.self_link().get_url()} <= {
        data.self_link().get_url() for data in by_step.to_list()
    }


def test_an_input_slot_must_be_filled_and_its_workdata_is_undeletable_while_used(
    client: httpx.Client, tag: str
) -> None:
    text = upload(client, tag, b"hello slots", "hello.txt", "text/plain")
    job = Job(client).create("slots: shout").set_tags([tag]).select_processing("shout")
    assert job.get_state() == JobStates.created  # the required input slot is empty
    assert not job.job_hco.start_processing_action  # type: ignore[union-attr]
    [slot] = job.get_input_data_slots()
    assert (slot.name, slot.is_configured, slot.selected_workdatas) == ("text", False, [])
    job.assign_input_dataslot(0, work_data_instance=text)
    assert job.get_state() == JobStates.ready_for_processing
    [slot] = job.get_input_data_slots()
    assert slot.is_configured and slot.selected_workdatas[0].name == "hello.txt"
    text.refresh()
    assert text.work_data_hco is not None and text.work_data_hco.is_used_as_job_input
    assert not text.work_data_hco.delete_action
    refused = forced(client, text, "Delete")
    assert refused.status_code == 409 and "a job uses it as input" in refused.json()["detail"]
    assert JobQuery.create(client, work_data_url=str(text.self_link().get_url())).count() == 1

    job.start().wait_for_completion(timeout_s=30)
    assert job.get_result() == len(b"hello slots")
    assert outputs(job)["loud"][0].download() == b"HELLO SLOTS"
    assert not text.refresh().work_data_hco.delete_action  # type: ignore[union-attr]  # still its input
    assert WorkDataQuery.create(client, tags_by_and=[tag], is_used=True).count() == 1


def test_clearing_an_input_slot_makes_the_job_unready_and_the_workdata_free(client: httpx.Client, tag: str) -> None:
    text = upload(client, tag, b"x", "x.txt", "text/plain")
    job = Job(client).create("slots: clear").set_tags([tag]).select_processing("shout")
    job.assign_input_dataslot(0, work_data_instance=text)
    job.clear_input_dataslot(0)
    assert job.get_state() == JobStates.created
    assert job.clear_input_dataslot(0) is None  # no Clear action on an empty slot: already cleared
    assert text.refresh().work_data_hco.delete_action  # type: ignore[union-attr]
    job.assign_input_dataslot(0, work_data_instance=text).select_processing("two_outputs")
    assert text.refresh().work_data_hco.delete_action  # type: ignore[union-attr]  # another step: inputs cleared


def test_collections_readers_writers_and_return_slots(client: httpx.Client, tag: str) -> None:
    pieces = [upload(client, tag, f" piece {n} ".encode(), f"p{n}.txt", "text/plain") for n in range(3)]
    join = Job(client).create("slots: join").set_tags([tag]).select_processing("join")
    join.assign_collection_input_dataslot(0, work_data_instances=pieces).configure_parameters(separator="!")
    assert join.start().wait_for_completion(timeout_s=30).get_result() == 3
    assert outputs(join)["joined"][0].download() == b"piece 0!\npiece 1!\npiece 2!"

    table = upload(client, tag, b"name,value\na,1\nb,2\n", "t.csv", "text/csv")
    count = Job(client).create("slots: count").set_tags([tag]).select_processing("count_rows")
    count.assign_input_dataslot(0, work_data_instance=table).start().wait_for_completion(timeout_s=30)
    assert count.get_result() is None  # the return value went to the __returns__ slot
    [result] = outputs(count)["__returns__"]
    assert result.work_data_hco is not None and result.work_data_hco.name == "result.json"
    assert json.loads(result.download()) == {"rows": 2}

    parts = Job(client).create("slots: parts").set_tags([tag]).select_processing("write_parts")
    parts.configure_parameters(count=3).start().wait_for_completion(timeout_s=30)
    written = outputs(parts)["parts"]
    assert [d.work_data_hco.name for d in written] == ["parts_1.csv", "parts_2.csv", "parts_3.csv"]  # type: ignore[union-attr]
    assert [d.download() for d in written] == [b"part,0\n", b"part,1\n", b"part,2\n"]

    checked = Job(client).create("slots: DataSlot parameter").set_tags([tag]).select_processing("checked")
    checked.assign_input_dataslot(0, work_data_instance=pieces[1]).start()
    assert checked.wait_for_completion(timeout_s=30).get_result() == "piece 1"


def test_selections_must_fit_the_slot(client: httpx.Client, tag: str) -> None:
    many = [upload(client, tag, b"p", f"p{n}.txt", "text/plain") for n in range(6)]
    join = Job(client).create("slots: too many").set_tags([tag]).select_processing("join")
    with pytest.raises(ApiException, match="takes at most 5 WorkData"):
        join.assign_collection_input_dataslot(0, work_data_instances=many)
    shout = Job(client).create("slots: single").set_tags([tag]).select_processing("shout")
    with pytest.raises(NotAvailableException):
        shout.assign_collection_input_dataslot(0, work_data_instances=many[:2])
    gone = upload(client, tag, b"p", "gone.txt", "text/plain")
    link = gone.self_link()
    gone.delete()
    with pytest.raises(ApiException, match="no WorkData at"):
        shout.assign_input_dataslot(0, work_data_link=link)
    forced_select = client.post(
        f"{shout.self_link().get_url()}/InputDataSlot/7/SelectWorkData", json={"WorkDataUrl": str(link.get_url())}
    )
    assert forced_select.status_code == 404


def test_rapid_setup_with_inputs_and_a_clear_error_without(client: httpx.Client, tag: str) -> None:
    step = ProcessingStep.from_name(client, "shout")
    text = upload(client, tag, b"quick", "q.txt", "text/plain")
    inputs = [InputDataSlotParameterFlexible.create(index=0, work_data_instances=[text])]
    job = Job(client).create_and_configure_rapidly(
        name="slots: rapid", processing_step_instance=step, tags=[tag], input_data_slots=inputs
    )
    assert job.wait_for_completion(timeout_s=30).get_result() == 5
    with pytest.raises(ApiException, match="input data slot 'text' needs at least 1 WorkData"):
        Job(client).create_and_configure_rapidly(name="slots: rapid, no input", processing_step_instance=step)
    waiting = Job(client).create_and_configure_rapidly(
        name="slots: rapid, not started", processing_step_instance=step, tags=[tag], start=False
    )
    assert waiting.get_state() == JobStates.created


def test_an_unreadable_input_fails_the_job_with_the_slot_named(client: httpx.Client, tag: str) -> None:
    binary = upload(client, tag, b"\xff\xfe\xfa", "bad.csv", "text/csv")
    job = Job(client).create("slots: unreadable").set_tags([tag]).select_processing("count_rows")
    job.assign_input_dataslot(0, work_data_instance=binary).start()
    with pytest.raises(Exception, match="Error reading dataslot 'table' for function 'count_rows'"):
        job.wait_for_completion(timeout_s=30)


def test_step_slot_specifications(client: httpx.Client) -> None:
    join = ProcessingStep.from_name(client, "join").processing_step_hco
    assert join is not None
    [pieces] = join.input_data_slot_specification
    assert (pieces.name, pieces.media_type, pieces.is_collection, pieces.min_slots, pieces.max_slots) == (
        "pieces", "text/plain", True, 1, 5,
    )
    [joined] = join.output_data_slot_specification
    assert (joined.name, joined.is_collection) == ("joined", False)


def test_collection_readers_and_writers(client: httpx.Client, tag: str) -> None:
    texts = [upload(client, tag, f"a{n}\nb{n}".encode(), f"t{n}.txt", "text/plain") for n in range(2)]
    job = Job(client).create("slots: split").set_tags([tag]).select_processing("split_lines")
    job.assign_collection_input_dataslot(0, work_data_instances=texts).start()
    assert job.wait_for_completion(timeout_s=30).get_result() == 4
    assert [data.download() for data in outputs(job)["lines"]] == [b"a0", b"b0", b"a1", b"b1"]


def test_outputs_finished_before_a_failure_stay_with_the_failed_job(
    jma: LocalJMA, client: httpx.Client, tag: str
) -> None:
    files_before = len(list(jma.data_dir.iterdir()))
    job = Job(client).create("slots: write then fail").set_tags([tag]).select_processing("write_then_fail").start()
    with pytest.raises(Exception, match="RuntimeError: failed after writing"):
        job.wait_for_completion(timeout_s=30)
    produced = outputs(job)
    assert produced["late"] == []  # never closed: not handed over, and its file is gone
    assert len(list(jma.data_dir.iterdir())) == files_before + 1
    assert [data.download() for data in produced["early"]] == [b"written before the failure"]
    assert not job.job_hco.delete_action  # type: ignore[union-attr]  # its output keeps the record
