"""The worker pool with real spawned processes: results, errors, crashes, floods, speed."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from batchrun.localjma.workers.messages import JobFinished, JobOffer, JobStarted
from batchrun.localjma.workers.output import LOG_LIMIT, log_text
from batchrun.localjma.workers.pool import STOPPED_WHILE_RUNNING, WorkerPool
from tests.support import STEPS, STEPS_DIR, wait_until

SOURCES = [str(STEPS), str(STEPS_DIR / "workers_misc.py"), str(STEPS_DIR / "procon_main.py")]


class Events:
    """Collects what the pool reports, in order, and waits for jobs to finish."""

    def __init__(self) -> None:
        self.batches: list[list[JobStarted | JobFinished]] = []
        self._lock = threading.Lock()

    def __call__(self, batch: list[JobStarted | JobFinished]) -> None:
        with self._lock:
            self.batches.append(batch)

    def all(self) -> list[JobStarted | JobFinished]:
        with self._lock:
            return [event for batch in self.batches for event in batch]

    def finished(self, job_ids: list[str], timeout: float = 30.0) -> dict[str, JobFinished]:
        def probe() -> dict[str, JobFinished] | None:
            done = {e.job_id: e for e in self.all() if isinstance(e, JobFinished) and e.job_id in job_ids}
            return done if len(done) == len(job_ids) else None

        return wait_until(probe, timeout=timeout, what=f"{len(job_ids)} jobs to finish")


def offer(function_name: str, version: str = "0.0.0", **parameters: Any) -> JobOffer:
    job_id = str(uuid.uuid4())
    return JobOffer(job_id, function_name, version, parameters, f"http://127.0.0.1/api/Job/{job_id}")


def run(pool: WorkerPool, events: Events, *offers: JobOffer) -> list[JobFinished]:
    for item in offers:
        pool.submit(item)
    done = events.finished([item.job_id for item in offers])
    return [done[item.job_id] for item in offers]


@pytest.fixture(scope="module")
def events() -> Events:
    return Events()


@pytest.fixture(scope="module")
def pool(events: Events) -> Iterator[WorkerPool]:
    workers = WorkerPool(SOURCES, 2, events, env={"BATCHRUN_TEST_VALUE": "from the pool"})
    workers.start()
    yield workers
    workers.stop()


def test_results_are_json_text(pool: WorkerPool, events: Events) -> None:
    echo, add, noop, rich, env = run(
        pool,
        events,
        offer("echo", "1.0.0", text="ab", times="3"),
        offer("add", "1.0.0", a=1, b=2.5),
        offer("noop"),
        offer("rich_result"),
        offer("environment", name="BATCHRUN_TEST_VALUE"),
    )
    assert (echo.result, echo.error) == ('"ababab"', None)
    assert json.loads(add.result or "") == {"sum": 3.5, "product": 2.5}
    assert noop.result == "null"
    assert json.loads(rich.result or "") == {
        "box": {"shape": "square", "size": [2, 3]},
        "when": "2024-05-06T07:08:09Z",
        "pair": [1, 2],
        "set": [3],
    }
    assert env.result == '"from the pool"'


def test_step_containers_get_models_and_enums(pool: WorkerPool, events: Events) -> None:
    paint, shout, kind = run(
        pool,
        events,
        offer("paint", point={"x": 1, "y": "2"}, color="blue"),
        offer("shout", "2.0.0", text="hi"),
        offer("kind"),
    )
    assert json.loads(paint.result or "") == {
        "point": {"x": 1.0, "y": 2.0},
        "color": "blue",
        "scale": 1.0,
        "types": ["Point", "Color"],
    }
    assert (shout.result, kind.result) == ('"HI"', '"MySteps"')


def test_errors_carry_the_original_message(pool: WorkerPool, events: Events) -> None:
    fail, refuse, leave, wrong, bad_params, unknown, slots, junk = run(
        pool,
        events,
        offer("fail", "1.0.0", message="bad x=1"),
        offer("refuse", reason="quota"),
        offer("leave", code=3),
        offer("wrong_return"),
        offer("echo", "1.0.0", text="a", times="many", extra=1),
        offer("echo", "9.9.9", text="a"),
        offer("count", limit=1),
        offer("unserialisable"),
    )
    assert (fail.result, fail.error) == (None, "ValueError: bad x=1")
    assert "Traceback" in log_text(fail.log) and "raise ValueError(message)" in log_text(fail.log)
    assert refuse.error == "refused: quota"
    assert leave.error == "SystemExit: 3"
    assert wrong.error is not None and "return value of wrong_return doesn't match its signature" in wrong.error
    assert bad_params.error is not None
    assert "times: Input should be a valid integer" in bad_params.error
    assert "extra: Extra inputs are not permitted" in bad_params.error
    assert unknown.error == "no local implementation of echo@9.9.9"
    assert slots.error == "count writes output data slots, but the workers have no data directory"
    assert junk.error is not None and junk.error.startswith("result of unserialisable is not JSON-serialisable: ")


def test_each_job_starts_once_on_a_worker_before_it_finishes(pool: WorkerPool, events: Events) -> None:
    offers = [offer("sleep_ms", "1.0.0", ms=30) for _ in range(6)]
    run(pool, events, *offers)
    ids = {item.job_id for item in offers}
    mine = [event for event in events.all() if event.job_id in ids]
    running: set[str] = set()
    most = 0
    for event in mine:
        if isinstance(event, JobStarted):
            assert event.job_id not in running
            running.add(event.job_id)
            most = max(most, len(running))
        else:
            running.remove(event.job_id)
    assert not running
    assert 1 <= most <= 2
    assert sum(isinstance(event, JobStarted) for event in mine) == 6


def test_worker_exit_fails_only_its_job(pool: WorkerPool, events: Events) -> None:
    crash, after = run(pool, events, offer("exit_now", code=7), offer("echo", "1.0.0", text="still here"))
    assert crash.error is not None
    assert crash.error.startswith("worker process local-")
    assert crash.error.endswith("died (exit code 7) while running this job")
    assert after.result == '"still here"'
    assert [r.result for r in run(pool, events, *(offer("noop") for _ in range(4)))] == ["null"] * 4


def test_segfault_leaves_its_crash_dump_in_the_log(pool: WorkerPool, events: Events) -> None:
    crash = run(pool, events, offer("segfault"))[0]
    assert crash.error is not None and crash.error.endswith("died (exit code -11) while running this job")
    assert "Segmentation fault" in log_text(crash.log) and "in segfault" in log_text(crash.log)


def test_worker_killed_by_a_signal(pool: WorkerPool, events: Events, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    hung = offer("hang", pid_file=str(pid_file))
    pool.submit(hung)
    pid = int(wait_until(lambda: pid_file.exists() and pid_file.read_text(), what="the step to write its pid"))
    os.kill(pid, signal.SIGKILL)
    done = events.finished([hung.job_id])[hung.job_id]
    assert done.error is not None and done.error.endswith("died (exit code -9) while running this job")
    assert run(pool, events, offer("echo", "1.0.0", text="ok"))[0].result == '"ok"'


def test_flooding_output_is_captured_and_capped(pool: WorkerPool, events: Events) -> None:
    chatty, quiet = run(pool, events, offer("chatty", megabytes=4), offer("echo", "1.0.0", text="q"))
    assert chatty.result == "4"
    assert len(log_text(chatty.log)) < LOG_LIMIT
    assert any("bytes of log left out" in entry.message for entry in chatty.log)
    assert {entry.source for entry in chatty.log} == {"stdout", "stderr", "worker"}
    assert quiet.log == ()


def test_each_job_reports_what_it_cost_unless_its_worker_died(pool: WorkerPool, events: Events) -> None:
    quick, died = run(pool, events, offer("noop"), offer("exit_now", code=3))
    assert quick.usage is not None and quick.usage.cpu_seconds >= 0 and quick.usage.peak_memory_bytes > 1 << 20
    assert died.usage is None


def test_events_arrive_in_batches(pool: WorkerPool, events: Events) -> None:
    offers = [offer("noop") for _ in range(200)]
    run(pool, events, *offers)
    ids = {item.job_id for item in offers}
    # A batch with several events of these jobs (the pool's batches of earlier tests do not count).
    assert any(sum(event.job_id in ids for event in batch) > 1 for batch in events.batches)


def test_many_noop_jobs(pool: WorkerPool, events: Events) -> None:
    offers = [offer("noop") for _ in range(500)]
    started = time.perf_counter()
    results = run(pool, events, *offers)
    elapsed = time.perf_counter() - started
    assert all(result.result == "null" for result in results)
    print(f"\n500 no-op jobs on 2 workers: {len(offers) / elapsed:.0f} jobs/s")


@pytest.fixture
def one_worker() -> Iterator[tuple[WorkerPool, Events]]:
    """A pool of one worker that batches whatever jobs of a step it has seen end (up to 10 s of them)."""
    events = Events()
    workers = WorkerPool(SOURCES, 1, events, batch_seconds=10.0)
    workers.start()
    yield workers, events
    workers.stop()


def batched(events: Events, job_ids: list[str]) -> int:
    """How many of the jobs started in a batch: the moment the job before them ended."""
    ends = {event.at for event in events.all() if isinstance(event, JobFinished)}
    return sum(1 for event in events.all()
               if isinstance(event, JobStarted) and event.job_id in job_ids and event.at in ends)


def test_short_jobs_go_to_a_worker_in_batches_and_every_result_is_recorded(
    one_worker: tuple[WorkerPool, Events],
) -> None:
    workers, events = one_worker
    run(workers, events, offer("echo", "1.0.0", text="first"))  # the step's time is known from here on
    offers = [offer("echo", "1.0.0", text=f"job {index}") for index in range(60)]
    results = run(workers, events, *offers)
    assert [result.result for result in results] == [json.dumps(f"job {index}") for index in range(60)]
    assert batched(events, [item.job_id for item in offers]) > 0
    mine = [e for e in events.all() if e.job_id in {item.job_id for item in offers}]
    started = [e.job_id for e in mine if isinstance(e, JobStarted)]
    assert sorted(started) == sorted(item.job_id for item in offers)  # each started once
    for item in offers:  # and before it finished
        kinds = [type(e) for e in mine if e.job_id == item.job_id]
        assert kinds == [JobStarted, JobFinished]


def test_a_worker_dying_in_a_batch_fails_its_job_and_the_rest_run_on(one_worker: tuple[WorkerPool, Events]) -> None:
    workers, events = one_worker
    run(workers, events, offer("exit_if"))
    before = [offer("exit_if") for _ in range(20)]
    crash = offer("exit_if", code=9)
    after = [offer("exit_if") for _ in range(20)]
    results = run(workers, events, *before, crash, *after)
    assert batched(events, [item.job_id for item in [*before, crash, *after]]) > 0
    failed = [result for result in results if result.error is not None]
    assert [result.job_id for result in failed] == [crash.job_id]
    assert (failed[0].error or "").endswith("died (exit code 9) while running this job")
    assert all(result.result == "null" for result in results if result.job_id != crash.job_id)


def test_workers_that_cannot_load_the_steps_fail_jobs(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text(
        "import os\nif os.environ.get('BREAK_ME'):\n    raise RuntimeError('cannot start here')\n"
        "def f() -> int:\n    return 1\n"
    )
    events = Events()
    workers = WorkerPool([str(broken)], 2, events, env={"BREAK_ME": "1"})
    workers.start()
    try:
        first, second = run(workers, events, offer("f"), offer("f"))
        assert first.error is not None and "RuntimeError: cannot start here" in first.error
        assert first.error.startswith("the local workers cannot run steps: cannot import steps file")
        assert second.error == first.error
    finally:
        workers.stop()


def test_stop_ends_running_jobs_and_drops_the_queue(tmp_path: Path) -> None:
    events = Events()
    workers = WorkerPool(SOURCES, 1, events)
    workers.start()
    pid_file = tmp_path / "pid"
    hung, queued = offer("hang", pid_file=str(pid_file)), offer("noop")
    workers.submit(hung)
    workers.submit(queued)
    wait_until(pid_file.exists, what="the step to start")
    workers.stop(timeout=0.2)
    workers.submit(offer("noop"))
    finished = [e for e in events.all() if isinstance(e, JobFinished)]
    assert [(e.job_id, e.error) for e in finished] == [(hung.job_id, STOPPED_WHILE_RUNNING)]
