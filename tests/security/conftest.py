"""A local JMA guarded by an API key, seeded with jobs and steps for hostile requests to aim at."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pinexq.client.job_management  # noqa: F401  (must come before the event manager: circular import)
import pytest
from pinexq.client.job_management import Job, ProcessingStep, WorkData
from pinexq.client.job_management.enterjma import create_pinexq_client

from batchrun.localjma import LocalJMA
from tests.security.support import KEY
from tests.support import STEPS

UPLOADED = {"version": "1.0.0", "function_name": "uploaded_step", "parameters": None, "returns": {},
            "input_dataslots": [], "output_dataslots": []}


@dataclass(frozen=True)
class Seeded:
    """Ids of resources in every state the hostile requests should leave alone."""

    ready: str
    pending: str
    parent: str
    step: str
    workdata: str


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalJMA]:
    """Workers=0: started jobs stay Pending, so the store only changes through requests."""
    database = tmp_path_factory.mktemp("guarded") / "jma.sqlite3"
    with LocalJMA(database, steps=[str(STEPS)], workers=0, api_key=KEY) as server:
        yield server


@pytest.fixture(scope="module")
def http(guarded: LocalJMA) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=guarded.url, headers={"x-api-key": KEY}, timeout=30) as client:
        yield client


def _id(resource: Job | ProcessingStep | WorkData) -> str:
    return str(resource.self_link().get_url()).rstrip("/").rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def seeded(guarded: LocalJMA) -> Seeded:
    with create_pinexq_client(guarded.url, api_key=KEY, use_client_cache=False) as client:
        step = ProcessingStep.from_name(client, "add")
        ready = Job(client).create_and_configure_rapidly(
            name="seed ready", processing_step_instance=step, parameters=json.dumps({"a": 1, "b": 2}),
            tags=["seed", "team=ml"], start=False,
        )
        pending = Job(client).create_and_configure_rapidly(
            name="seed pending", processing_step_instance=step, parameters=json.dumps({"a": 3, "b": 4}),
            tags=["seed", "kind=pending"], start=True,
        )
        parent = Job(client).create("seed parent").set_tags(["seed", "kind=parent"]).hide()
        parent.create_sub_job("seed child").set_tags(["seed", "kind=child"])
        uploaded = ProcessingStep(client).create(json_data=UPLOADED)
        data = WorkData(client).create(filename="seed.csv", mediatype="text/csv", binary=b"a,b\n1,2\n",
                                       tags=["seed"])
        return Seeded(_id(ready), _id(pending), _id(parent), _id(uploaded), _id(data))
