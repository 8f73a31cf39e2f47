"""procon fidelity through the real local JMA and client: the DataSlot helpers read and
write as procon documents them, and other ``pinexq.procon`` distributions stay importable."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pinexq.client.job_management import Job, WorkData

from batchrun.localjma import LocalJMA
from tests.localjma.test_dataslots import outputs
from tests.localjma.test_workdata import upload
from tests.support import STEPS_DIR

SLOT_STEPS = STEPS_DIR / "procon_slots.py"


@pytest.fixture(scope="module")
def slots_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    database = tmp_path_factory.mktemp("procon_slots") / "localjma.sqlite3"
    with LocalJMA(database, steps=[str(SLOT_STEPS)], workers=1) as server, httpx.Client(base_url=server.url) as http:
        yield http


def _run(client: httpx.Client, tag: str, function: str, **parameters: object) -> Job:
    job = Job(client).create(f"fidelity: {function}").set_tags([tag]).select_processing(function)
    return job.configure_parameters(**parameters)


def _downloads(job: Job, slot: str) -> list[bytes]:
    return [data.download() for data in outputs(job)[slot]]


def test_a_single_output_slot_writes_the_dict_it_is_given(slots_client: httpx.Client, tag: str) -> None:
    job = _run(slots_client, tag, "keep").start()
    assert job.wait_for_completion(timeout_s=30).get_result() == 1
    [kept] = _downloads(job, "kept")
    assert json.loads(kept) == {"kept": [3, 4]}


def test_a_single_output_slot_without_a_writer_writes_the_text_once(slots_client: httpx.Client, tag: str) -> None:
    job = _run(slots_client, tag, "keep_text").start()
    job.wait_for_completion(timeout_s=30)
    assert _downloads(job, "raw") == [b"one text, not its characters"]


def test_a_single_input_slot_reads_one_object_through_its_reader(slots_client: httpx.Client, tag: str) -> None:
    source = upload(slots_client, tag, b'{"kept": [3, 4]}', "kept.json", "application/json")
    job = _run(slots_client, tag, "read_kept")
    job.assign_input_dataslot(0, work_data_instance=source).start()
    assert job.wait_for_completion(timeout_s=30).get_result() == {"kept": [3, 4]}


def test_a_collection_output_writes_through_its_collection_writer(slots_client: httpx.Client, tag: str) -> None:
    job = _run(slots_client, tag, "number", count=3).start()
    assert job.wait_for_completion(timeout_s=30).get_result() == 3
    assert _downloads(job, "numbered") == [b"n0=0", b"n1=10", b"n2=20"]


def test_a_collection_input_reads_through_its_collection_reader(slots_client: httpx.Client, tag: str) -> None:
    written = _run(slots_client, tag, "number", count=2).start()
    written.wait_for_completion(timeout_s=30)
    produced: list[WorkData] = outputs(written)["numbered"]
    job = _run(slots_client, tag, "total")
    job.assign_collection_input_dataslot(0, work_data_instances=produced).start()
    assert job.wait_for_completion(timeout_s=30).get_result() == {"n0": 0, "n1": 10}


def test_slot_names_metadata_and_media_types_as_in_procon(slots_client: httpx.Client, tag: str) -> None:
    source = upload(slots_client, tag, b"{}", "empty.json", "application/json")
    job = _run(slots_client, tag, "slot_details")
    job.assign_input_dataslot(0, work_data_instance=source).start()
    assert job.wait_for_completion(timeout_s=30).get_result() == [
        1, "source[0]", "application/json", [tag], True, "table[0]",
    ]
    [table] = outputs(job)["table"]
    assert table.work_data_hco is not None
    assert (table.work_data_hco.name, table.work_data_hco.media_type) == (
        "table.parquet", "application/vnd.apache.parquet",
    )
    assert table.download() == b"PAR1"


def test_a_slot_left_by_an_exception_is_not_handed_over(slots_client: httpx.Client, tag: str) -> None:
    job = _run(slots_client, tag, "interrupted").start()
    assert job.wait_for_completion(timeout_s=30).get_result() is True
    assert _downloads(job, "kept") == [b"complete"]
    assert _downloads(job, "dropped") == []


NAMESPACE_STEP = '''
"""An unchanged PineXQ step file that uses another distribution of the procon namespace."""

from pinexq.procon.dataslots import DataSlot, MediaTypes, dataslot
from pinexq.procon.io import pydantic_reader
from pinexq.procon.step import Step, version
from pydantic import BaseModel


class Point(BaseModel):
    x: float
    y: float


class Geometry(Step):
    @version("1.0.0")
    @dataslot.input("point", media_type=MediaTypes.JSON, reader=pydantic_reader(Point))
    def norm(self, point: DataSlot) -> float:
        value = point.read_data_from_slots()
        return round((value.x ** 2 + value.y ** 2) ** 0.5, 3)
'''

FAKE_PROCON_IO = '''
"""Stands in for the published pinexq-procon-io distribution (``pinexq.procon.io``)."""


def pydantic_reader(model):
    return lambda file: model.model_validate_json(file.read())
'''


def test_other_procon_namespace_distributions_stay_importable(
    tmp_path: Path, tag: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    (site / "pinexq" / "procon" / "io").mkdir(parents=True)
    (site / "pinexq" / "procon" / "io" / "__init__.py").write_text(textwrap.dedent(FAKE_PROCON_IO))
    steps = tmp_path / "steps" / "main.py"
    steps.parent.mkdir()
    steps.write_text(textwrap.dedent(NAMESPACE_STEP))
    monkeypatch.syspath_prepend(str(site))  # as an installed distribution: the workers inherit sys.path
    with LocalJMA(tmp_path / "localjma.sqlite3", steps=[str(steps)], workers=1) as server, httpx.Client(
        base_url=server.url
    ) as client:
        point = upload(client, tag, b'{"x": 3, "y": 4}', "point.json", "application/json")
        job = _run(client, tag, "norm")
        job.assign_input_dataslot(0, work_data_instance=point).start()
        assert job.wait_for_completion(timeout_s=30).get_result() == 5.0
