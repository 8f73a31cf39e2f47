"""The statements behind the hot paths read through an index, never every row of a table.

A database holding a million jobs of other batches must not slow a batch's apply, plan,
status or report (``bench.bigdb`` measures that). SQLite plans these statements the same
way on ten jobs as on a million (the store keeps no statistics that would change its
choice), so a small database shows the plan a large one gets: each store call below runs
through ``Store.explain``, which returns SQLite's plan for every statement it sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from batchrun.localjma.store.database import Store
from batchrun.localjma.store.filters import JobFilter, Order, WorkDataFilter
from batchrun.localjma.store.rows import JobRow, QueryPlan, WorkDataRow, utc_now
from batchrun.states import JobState

BATCH, RUN = "batchrun.batch=plans", "batchrun.run=1"
OLDEST_FIRST = Order("created_at")


def _job(number: int, tags: tuple[str, ...], state: JobState, parent_id: str | None = None) -> JobRow:
    now = utc_now()
    return JobRow(0, str(uuid.uuid4()), f"point-{number}", state, step_id="step", tags=tags, parent_id=parent_id,
                  created_at=now, completed_at=now if state == JobState.COMPLETED else None)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A batch of two runs, another batch, and a job with a sub-job."""
    opened = Store(tmp_path_factory.mktemp("plans") / "localjma.sqlite3")
    jobs = [_job(n, (BATCH, f"batchrun.run={1 + n % 2}", f"batchrun.key={n}"), JobState.COMPLETED) for n in range(6)]
    jobs += [_job(n, ("batchrun.batch=other", RUN), JobState.ERROR) for n in range(4)]
    parent = _job(10, ("pipeline",), JobState.PROCESSING)
    opened.insert_jobs([*jobs, parent, _job(11, ("pipeline",), JobState.PENDING, parent_id=parent.id)])
    opened.insert_workdata(WorkDataRow(0, str(uuid.uuid4()), "input.csv", "text/csv", 3, "Upload", tags=(BATCH,)))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="module")
def job(store: Store) -> JobRow:
    return store.find_jobs(JobFilter(tags_all=(BATCH, RUN)), OLDEST_FIRST, 1, 0)[0]


@pytest.fixture(scope="module")
def data(store: Store) -> WorkDataRow:
    return store.find_workdata(WorkDataFilter(tags_all=(BATCH,)), None, 1, 0)[0]


def _batch(state: JobState | None = None, created_after: datetime | None = None) -> JobFilter:
    """Run 1 of the batch, as the runner asks for it."""
    return JobFilter(tags_all=(BATCH, RUN), state=state, created_after=created_after)


#: What plan, status, report and apply's watch loop ask: a run of a batch, oldest first, paged.
RUNNER_READS: dict[str, Callable[[Store, JobRow], object]] = {
    "a page of a run": lambda s, _: s.find_jobs(_batch(), OLDEST_FIRST, 1000, 0),
    "a deep page of a run": lambda s, _: s.find_jobs(_batch(), OLDEST_FIRST, 1000, 50_000),
    "the watch loop's newer jobs": lambda s, _: s.find_jobs(_batch(created_after=datetime.now(UTC)), OLDEST_FIRST,
                                                            1000, 0),
    "the attempts of a point": lambda s, j: s.find_jobs(JobFilter(tags_all=(BATCH, j.tags[2], RUN)), OLDEST_FIRST,
                                                        1000, 0),
    "a batch, newest first": lambda s, _: s.find_jobs(JobFilter(tags_all=(BATCH,)), None, 100, 0),
    "a batch in one state": lambda s, _: s.find_jobs(_batch(state=JobState.ERROR), None, 100, 0),
}

#: Everything else a batch's commands and the server's hot paths run.
OTHER_READS: dict[str, Callable[[Store, JobRow], object]] = {
    "count of a run": lambda s, _: s.count_jobs(_batch()),
    "count of a run in one state": lambda s, _: s.count_jobs(_batch(state=JobState.COMPLETED)),
    "a batch by name": lambda s, _: s.find_jobs(JobFilter(tags_all=(BATCH,)), Order("name"), 100, 0),
    "a batch by completion": lambda s, _: s.find_jobs(JobFilter(tags_all=(BATCH,)), Order("completed_at", True),
                                                      100, 0),
    "a batch in one state by completion": lambda s, _: s.find_jobs(
        _batch(state=JobState.ERROR), Order("completed_at", True), 100, 0),
    "jobs with any of tags": lambda s, _: s.find_jobs(JobFilter(tags_any=(BATCH, "pipeline")), None, 100, 0),
    "tags a batch's jobs carry": lambda s, _: s.job_tags(JobFilter(tags_all=(BATCH,))),
    "a job": lambda s, j: s.job(j.id),
    "a job's event log": lambda s, j: s.job_events(j.id),
    "a job's inputs": lambda s, j: s.job_inputs(j),
    "a job's outputs": lambda s, j: s.job_outputs(j.id),
    "a job's log": lambda s, j: (s.job_logs(j.id, 100, 0), s.count_job_logs(j.id)),
    "a job's costs": lambda s, j: (s.job_usage(j.id), s.job_samples(j.id)),
    "the event log after a point": lambda s, j: s.event_log(j.id, 0, 100),
    "the events to replay": lambda s, _: s.events_since(0.0),
    "the jobs to offer workers after a restart": lambda s, _: s.jobs_in_state(JobState.PENDING),
    "the jobs a restart recovers": lambda s, _: s.jobs_in_state(JobState.PROCESSING),
    "sub-jobs of a job": lambda s, j: s.find_jobs(JobFilter(sub_job=True, parent_id=j.id), OLDEST_FIRST, 1000, 0),
    "creating a job": lambda s, j: s.insert_job(_job(99, j.tags, JobState.CREATED)),
    "starting a job": lambda s, j: s.update_job(j, only_in=(JobState.READY_FOR_PROCESSING,), state=JobState.PENDING),
    "re-tagging a job": lambda s, j: s.update_job(j, tags=("renamed",)),
    "counting a sub-job": lambda s, j: s.adjust_children(j.id, 1),
    "deleting a job": lambda s, j: s.delete_job(j),
    "selecting inputs": lambda s, j: s.select_inputs(j, 0, ["some-workdata"]),
}


def _plans(store: Store, job: JobRow, read: Callable[[Store, JobRow], object]) -> list[QueryPlan]:
    plans = store.explain(lambda: read(store, job))
    assert plans, "the call ran no statement"
    return plans


def _scans(plans: list[QueryPlan]) -> list[str]:
    """The steps that read a whole table or index ("SCAN jobs"), with their statements."""
    return [f"{step} in {plan.sql}" for plan in plans for step in plan.steps if step.startswith("SCAN ")]


@pytest.mark.parametrize("label", [*RUNNER_READS, *OTHER_READS])
def test_a_hot_statement_reads_through_an_index(store: Store, job: JobRow, label: str) -> None:
    read = RUNNER_READS.get(label) or OTHER_READS[label]
    assert _scans(_plans(store, job, read)) == []


@pytest.mark.parametrize("label", RUNNER_READS)
def test_a_page_of_a_batch_comes_in_tag_index_order(store: Store, job: JobRow, label: str) -> None:
    """No sort of all matches before the first row: a page costs its place in the batch, not the batch."""
    steps = [step for plan in _plans(store, job, RUNNER_READS[label]) for step in plan.steps]
    assert any("job_tags USING PRIMARY KEY (tag=?)" in step for step in steps)
    assert not [step for step in steps if "TEMP B-TREE" in step]


def test_retagging_and_deleting_workdata_read_only_its_tags(store: Store, data: WorkDataRow) -> None:
    for change in (lambda: store.update_workdata(data, tags=("renamed",)), lambda: store.delete_workdata(data)):
        plans = store.explain(change)
        assert _scans(plans) == []
        assert any("workdata_tags_by_workdata" in step for plan in plans for step in plan.steps)


def test_explaining_a_write_leaves_the_database_as_it_was(store: Store, job: JobRow) -> None:
    plans = store.explain(lambda: store.delete_job(job))
    assert any(plan.sql.startswith("DELETE FROM job_tags") for plan in plans)
    assert store.job(job.id) == job
    assert store.count_jobs(_batch()) == 3


def test_jobs_inserted_together_are_numbered_in_order_after_the_last(tmp_path: Path) -> None:
    store = Store(tmp_path / "localjma.sqlite3")
    try:
        first = store.insert_job(_job(0, (BATCH,), JobState.CREATED))
        more = store.insert_jobs([_job(n, (BATCH, f"batchrun.key={n}"), JobState.COMPLETED) for n in (1, 2, 3)])
        assert [row.seq for row in more] == [first.seq + 1, first.seq + 2, first.seq + 3]
        assert store.find_jobs(JobFilter(tags_all=(BATCH,)), OLDEST_FIRST, 10, 0) == [first, *more]
        assert store.find_jobs(JobFilter(tags_all=("batchrun.key=2",)), None, 10, 0) == [more[1]]
        assert store.insert_jobs([]) == []
    finally:
        store.close()
