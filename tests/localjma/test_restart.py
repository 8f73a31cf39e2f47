"""Stopping and starting the local JMA on the same database: nothing lost, nothing stuck."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from pinexq.client.job_management import Job, JobQuery, ProcessingStep
from pinexq.client.job_management.model import JobStates

from batchrun.errors import BatchrunError
from batchrun.localjma import LocalJMA
from batchrun.localjma.domain.recovery import GAVE_UP, MAX_REQUEUES, REQUEUED
from batchrun.localjma.store.database import Store
from batchrun.localjma.store.rows import JobRow, utc_now
from tests.localjma.conftest import SOURCES
from tests.support import STEPS_DIR, wait_until

pytestmark = pytest.mark.filterwarnings("error::UserWarning")

ONCE_SLOW = str(STEPS_DIR / "reliability_steps.py")
UPLOADED = {"version": "2.0.0", "function_name": "uploaded", "parameters": None, "returns": {},
            "input_dataslots": [], "output_dataslots": []}


def _state(client: httpx.Client, job: Job) -> str:
    return str(client.get(str(job.self_link().get_url())).json()["properties"]["State"])


def test_jobs_steps_tags_and_results_survive_a_restart(database: Path) -> None:
    with LocalJMA(database, steps=SOURCES, workers=1) as jma, httpx.Client(base_url=jma.url) as client:
        done = Job(client).create("restart: done").select_processing("add").set_tags(["keep", "k=v"])
        done.configure_parameters(a=1, b=2).start().wait_for_completion(timeout_s=30)
        Job(client).create("restart: waiting").set_tags(["keep"]).hide()
        ProcessingStep(client).create(UPLOADED)

    with LocalJMA(database, steps=SOURCES, workers=1) as jma, httpx.Client(base_url=jma.url) as client:
        jobs = {job.job_hco.name: job for job in JobQuery.create(client, tags_by_and=["keep"]).to_list()}
        uploaded = ProcessingStep.from_name(client, "uploaded", "2.0.0")

        assert set(jobs) == {"restart: done", "restart: waiting"}
        assert jobs["restart: done"].get_result() == {"sum": 3.0, "product": 2.0}
        assert jobs["restart: done"].job_hco.tags == ["keep", "k=v"]
        assert jobs["restart: waiting"].job_hco.hidden
        assert JobQuery.create(client, tags_by_and=["k=v"]).count() == 1
        assert uploaded.processing_step_hco.function_name == "uploaded"
        jobs["restart: done"].delete()  # deleting still works on the restarted server
        assert JobQuery.create(client, tags_by_and=["k=v"]).count() == 0


def test_a_job_processing_at_stop_is_requeued_and_runs_again_as_the_same_job(
    database: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "started-once"
    with LocalJMA(database, steps=[*SOURCES, ONCE_SLOW], workers=1) as jma, httpx.Client(base_url=jma.url) as client:
        job = Job(client).create("restart: cut off").select_processing("slow_first_time")
        job.configure_parameters(marker=str(marker)).start()
        wait_until(lambda: _state(client, job) == "Processing", timeout=30, what="the job to start")
        job_id = job.job_hco.self_link.get_url().path.rsplit("/", 1)[-1]

    with LocalJMA(database, steps=[*SOURCES, ONCE_SLOW], workers=0) as jma, httpx.Client(base_url=jma.url) as client:
        cut_off = JobQuery.create(client, name="restart: cut off").one().job_hco
        assert (cut_off.state, cut_off.started_at, cut_off.error_description) == (JobStates.pending, None, None)
    assert _requeue_notes(database, job_id) == [REQUEUED]

    with LocalJMA(database, steps=[*SOURCES, ONCE_SLOW], workers=1) as jma, httpx.Client(base_url=jma.url) as client:
        again = JobQuery.create(client, name="restart: cut off").one()
        assert again.wait_for_completion(timeout_s=30).get_result() == "second run"
        assert JobQuery.create(client, name="restart: cut off").count() == 1


def test_a_pending_job_runs_after_the_restart(database: Path) -> None:
    with LocalJMA(database, steps=SOURCES, workers=0) as jma, httpx.Client(base_url=jma.url) as client:
        step = ProcessingStep.from_name(client, "echo")
        job = Job(client).create_and_configure_rapidly(
            name="restart: queued", processing_step_instance=step, parameters=json.dumps({"text": "later"})
        )
        assert job.job_hco.state == JobStates.pending  # no workers: queued, not run

    with LocalJMA(database, steps=SOURCES, workers=1) as jma, httpx.Client(base_url=jma.url) as client:
        job = JobQuery.create(client, name="restart: queued").one()

        assert job.wait_for_completion(timeout_s=30).get_result() == "later"


CRASHED = "0f0f0f0f-0000-0000-0000-000000000001"


def _requeue_notes(database: Path, job_id: str) -> list[str | None]:
    store = Store(database)
    try:
        return [event.detail for event in store.job_events(job_id) if event.event_type == "Requeued"]
    finally:
        store.close()


def _crash_while_processing(database: Path) -> None:
    """What a SIGKILL leaves behind: the job Processing on a worker that is gone."""
    store = Store(database)
    job = store.job(CRASHED)
    if job is None:
        echo = next(step for step in store.steps() if step.function_name == "echo")
        store.insert_job(JobRow(0, CRASHED, "crashed", "Processing", step_id=echo.id, parameters='{"text": "x"}',
                                worker_id="local-1", created_at=utc_now(), started_at=utc_now()))
    else:
        store.update_job(job, state="Processing", worker_id="local-1", started_at=utc_now())
    store.close()


def _after_restart(database: Path) -> dict[str, object]:
    with LocalJMA(database, steps=SOURCES, workers=0) as jma, httpx.Client(base_url=jma.url) as client:
        return dict(client.get(f"/api/Job/{CRASHED}").json()["properties"])


def test_a_crash_requeues_what_was_processing_and_gives_up_after_the_limit(database: Path) -> None:
    LocalJMA(database, steps=SOURCES, workers=0).start().stop()  # registers the steps
    for requeued in range(1, MAX_REQUEUES + 1):
        _crash_while_processing(database)
        properties = _after_restart(database)
        assert properties["State"] == "Pending" and properties.get("StartedAt") is None
        assert _requeue_notes(database, CRASHED) == [REQUEUED] * requeued

    _crash_while_processing(database)
    properties = _after_restart(database)

    assert (properties["State"], properties["ErrorDescription"]) == ("Error", GAVE_UP)
    assert len(_requeue_notes(database, CRASHED)) == MAX_REQUEUES


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
        with pytest.raises(BatchrunError, match=rf"in use by another local JMA \(pid {os.getpid()}"):
            LocalJMA(database, workers=0).start()
    LocalJMA(database, workers=0).start().stop()
