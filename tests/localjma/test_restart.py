"""Stopping and starting the local JMA on the same database: nothing lost, nothing stuck."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from pinexq.client.job_management import Job, JobQuery, ProcessingStep
from pinexq.client.job_management.model import JobStates

from batchrun.errors import BatchrunError
from batchrun.localjma import LocalJMA
from batchrun.localjma.recovery import INTERRUPTED
from batchrun.localjma.store import JobRow, Store, utc_now
from tests.localjma.conftest import STEPS
from tests.support import wait_until

pytestmark = pytest.mark.filterwarnings("error::UserWarning")

UPLOADED = {"version": "2.0.0", "function_name": "uploaded", "parameters": None, "returns": {},
            "input_dataslots": [], "output_dataslots": []}


def _state(client: httpx.Client, job: Job) -> str:
    return str(client.get(str(job.self_link().get_url())).json()["properties"]["State"])


def test_jobs_steps_tags_and_results_survive_a_restart(database: Path) -> None:
    with LocalJMA(database, steps=STEPS, workers=1) as jma, httpx.Client(base_url=jma.url) as client:
        done = Job(client).create("restart: done").select_processing("add").set_tags(["keep", "k=v"])
        done.configure_parameters(a=1, b=2).start().wait_for_completion(timeout_s=30)
        Job(client).create("restart: waiting").set_tags(["keep"]).hide()
        ProcessingStep(client).create(UPLOADED)

    with LocalJMA(database, steps=STEPS, workers=1) as jma, httpx.Client(base_url=jma.url) as client:
        jobs = {job.job_hco.name: job for job in JobQuery.create(client, tags_by_and=["keep"]).to_list()}
        uploaded = ProcessingStep.from_name(client, "uploaded", "2.0.0")

        assert set(jobs) == {"restart: done", "restart: waiting"}
        assert jobs["restart: done"].get_result() == {"sum": 3.0, "product": 2.0}
        assert jobs["restart: done"].job_hco.tags == ["keep", "k=v"]
        assert jobs["restart: waiting"].job_hco.hidden
        assert JobQuery.create(client, tags_by_and=["k=v"]).count() == 1
        assert uploaded.processing_step_hco.function_name == "uploaded"
        jobs["restart: done"].delete()  # deleting still works on the restarted server


def test_a_job_processing_at_stop_ends_in_error_with_the_reason(database: Path) -> None:
    with LocalJMA(database, steps=STEPS, workers=1) as jma, httpx.Client(base_url=jma.url) as client:
        job = Job(client).create("restart: cut off").select_processing("sleep_ms")
        job.configure_parameters(ms=60_000).start()
        wait_until(lambda: _state(client, job) == "Processing", timeout=30, what="the job to start")

    with LocalJMA(database, steps=STEPS, workers=0) as jma, httpx.Client(base_url=jma.url) as client:
        job = JobQuery.create(client, name="restart: cut off").one()

        assert job.job_hco.state == JobStates.error
        assert job.job_hco.error_description == INTERRUPTED


def test_a_pending_job_runs_after_the_restart(database: Path) -> None:
    with LocalJMA(database, steps=STEPS, workers=0) as jma, httpx.Client(base_url=jma.url) as client:
        step = ProcessingStep.from_name(client, "echo")
        job = Job(client).create_and_configure_rapidly(
            name="restart: queued", processing_step_instance=step, parameters=json.dumps({"text": "later"})
        )
        assert job.job_hco.state == JobStates.pending  # no workers: queued, not run

    with LocalJMA(database, steps=STEPS, workers=1) as jma, httpx.Client(base_url=jma.url) as client:
        job = JobQuery.create(client, name="restart: queued").one()

        assert job.wait_for_completion(timeout_s=30).get_result() == "later"


def test_a_crash_leaves_nothing_processing(database: Path) -> None:
    """After a crash (no clean stop) the next start fails what was Processing."""
    store = Store(database)
    store.insert_job(JobRow(0, "0f0f0f0f-0000-0000-0000-000000000001", "crashed", "Processing", created_at=utc_now()))
    store.close()

    with LocalJMA(database, workers=0) as jma, httpx.Client(base_url=jma.url) as client:
        properties = client.get("/api/Job/0f0f0f0f-0000-0000-0000-000000000001").json()["properties"]

    assert (properties["State"], properties["ErrorDescription"]) == ("Error", INTERRUPTED)


def test_changed_code_under_a_registered_version_is_refused(database: Path, tmp_path: Path) -> None:
    steps = tmp_path / "changing.py"
    steps.write_text('from batchrun import version\n\n@version("1.0.0")\ndef twice(x: int) -> int:\n    return 2 * x\n')
    LocalJMA(database, steps=[str(steps)], workers=0).start().stop()

    steps.write_text(steps.read_text().replace("2 * x", "3 * x"))
    with pytest.raises(BatchrunError, match=r'twice@1\.0\.0.*bump its @version \(e\.g\. @version\("1\.0\.1"\)'):
        LocalJMA(database, steps=[str(steps)], workers=0).start()

    steps.write_text(steps.read_text().replace('"1.0.0"', '"1.0.1"'))
    LocalJMA(database, steps=[str(steps)], workers=0).start().stop()


def test_one_database_serves_one_server_at_a_time(database: Path) -> None:
    with LocalJMA(database, workers=0):
        with pytest.raises(BatchrunError, match="in use by another local JMA"):
            LocalJMA(database, workers=0).start()
    LocalJMA(database, workers=0).start().stop()
