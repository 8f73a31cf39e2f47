"""The executor's parts without a server: selectors, progress lines and the board."""

from __future__ import annotations

import io
import threading

import pytest

from batchrun.apply.board import Board, OnFailure, Point, Status, Work
from batchrun.cli.progress import shown, summary_line
from batchrun.errors import UsageError
from batchrun.selectors import check_fields, matches, parse_selectors
from tests.support import wait_until

# -- selectors ------------------------------------------------------------------------------


def select(texts, *, key="3f2a9c11aa", states=("create",), parameters=None):
    return matches(parse_selectors(texts), key=key, states=states, parameters=parameters or {})


def test_parameter_selectors_compare_yaml_values():
    parameters = {"lr": 0.1, "depth": 3, "opt": {"name": "adam"}, "flag": True}
    assert select(["lr=0.1"], parameters=parameters)
    assert select(["depth=3.0"], parameters=parameters)  # numbers compare as numbers
    assert select(["opt.name=adam", "flag=true"], parameters=parameters)
    assert not select(["lr=0.2"], parameters=parameters)
    assert not select(["flag=1"], parameters=parameters)  # a bool is not a number
    assert not select(["opt.size=1"], parameters=parameters)


def test_state_and_key_selectors():
    assert select(["state=failed"], states=("failed", "Error"))
    assert select(["state=error"], states=("failed", "Error"))  # case does not matter
    assert not select(["state=failed"], states=("unchanged", "Completed"))
    assert select(["key=3f2a"])  # a prefix, as with git hashes
    assert not select(["key=3f2b"])
    assert not select(["key=3f2a"], key=None)
    assert select(["key=3f2a", "state=create"]) and not select(["key=3f2a", "state=rerun"])


@pytest.mark.parametrize("text", ["lr", "=0.1", "  =x"])
def test_malformed_selectors_are_usage_errors(text):
    with pytest.raises(UsageError, match="FIELD=VALUE"):
        parse_selectors([text])


def test_selectors_on_unknown_parameters_are_refused_with_the_choices():
    with pytest.raises(UsageError, match=r"no parameter named 'lrr'.*lr, state"):
        check_fields(parse_selectors(["lrr=0.1"]), ["lr", "depth"])
    check_fields(parse_selectors(["lr=1", "state=failed", "key=ab", "lr.x=1"]), ["lr"])


# -- progress -------------------------------------------------------------------------------


def test_summary_line_orders_states_and_estimates():
    line = summary_line(
        {"failed": 1, "running": 2, "completed": 5, "queued": 0},
        done=6,
        total=10,
        elapsed=2.0,
        finished_here=6,
    )
    assert line == "6/10 done | 2 running, 5 completed, 1 failed | 3.0 jobs/s | ETA 1s"
    assert summary_line({}, done=0, total=3, elapsed=0.0, finished_here=0) == "0/3 done"


def test_plain_progress_prints_periodically_and_at_the_end():
    stream = io.StringIO()
    with shown(4, stream=stream, interval=3600) as progress:
        progress.update({"running": 4}, done=0, finished_here=0)
        progress.update({"completed": 4}, done=4, finished_here=4)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("batchrun: 4/4 done | 4 completed")
    assert "\x1b[" not in stream.getvalue()  # not a terminal: no control sequences


# -- board ----------------------------------------------------------------------------------


def board_of(specs, **settings):
    options = {"max_running": 8, "retries": 0, "timeout": None, "on_failure": OnFailure.CONTINUE}
    options.update(settings)
    return Board([Point(spec, Status.QUEUED, attempt=1) for spec in specs], **options)


def test_the_running_cap_holds_submissions_until_jobs_finish(make_spec, make_job):
    specs = [make_spec(i, {"a": i, "b": 1}) for i in range(3)]
    board = board_of(specs, max_running=2)
    first, second = board.take(), board.take()
    waiting: list = []
    thread = threading.Thread(target=lambda: waiting.append(board.take()), daemon=True)
    thread.start()
    thread.join(timeout=0.2)
    assert thread.is_alive(), "a third job must wait for a free slot"
    board.submitted(first, "u1")
    board.submitted(second, "u2")
    board.observe([make_job(specs[0], "Completed")], now=0.0)
    wait_until(lambda: waiting, timeout=5, what="the third submission")
    assert waiting[0].spec == specs[2]
    assert board.counts() == {"completed": 1, "pending": 1, "submitting": 1}


def test_a_re_read_is_due_at_once_when_events_named_every_awaited_job(make_spec):
    specs = [make_spec(i, {"a": i, "b": 1}) for i in range(3)]
    board = board_of(specs)
    first, second = board.take(), board.take()
    board.submitted(first, "u1")
    board.submitted(second, "u2")
    assert not board.all_changed({"u1", "u2"}), "a point is still queued"
    board.submitted(board.take(), "u3")
    assert not board.all_changed({"u1", "u2", "other"})
    assert board.all_changed({"u1", "u2", "u3"})


def test_failed_points_get_new_attempts_up_to_the_retries(make_spec, make_job):
    spec = make_spec(0, {"a": 0, "b": 1})
    board = board_of([spec], retries=1)
    task = board.take()
    board.submitted(task, "u1")
    board.observe([make_job(spec, "Error", error="ValueError: boom")], now=0.0)
    retry = board.take()
    assert retry.attempt == 2 and retry.work is Work.CREATE
    board.submitted(retry, "u2")
    board.observe([make_job(spec, "Error"), make_job(spec, "Error", attempt=2, error="again")], 1.0)
    [point] = board.points
    assert point.status is Status.FAILED and point.error == "again" and point.attempt == 2
    assert board.settled(wait=True) and board.finished_here == 1


@pytest.mark.parametrize("policy", [OnFailure.FINISH, OnFailure.CANCEL])
def test_finish_and_cancel_stop_submitting_after_a_failure(make_spec, make_job, policy):
    specs = [make_spec(i, {"a": i, "b": 1}) for i in range(4)]
    board = board_of(specs, max_running=2, on_failure=policy)
    first, second = board.take(), board.take()
    board.submitted(first, "u1")
    board.submitted(second, "u2")
    board.observe([make_job(specs[0], "Error", error="boom")], now=0.0)
    assert board.counts() == {"failed": 1, "pending": 1, "skipped": 2}
    # finish waits for the running job; cancel stops waiting at once.
    assert board.settled(wait=True) is (policy is OnFailure.CANCEL)


def test_a_retry_that_will_not_happen_leaves_the_point_failed(make_spec, make_job):
    spec = make_spec(0, {"a": 0, "b": 1})
    board = board_of([spec], retries=3)
    board.submitted(board.take(), "u1")
    board.observe([make_job(spec, "Error", error="boom")], now=0.0)
    board.stop()  # e.g. Ctrl-C before the retry was submitted
    [point] = board.points
    assert point.status is Status.FAILED and point.attempt == 1 and point.error == "boom"


def test_jobs_processing_past_the_timeout_time_out(make_spec, make_job):
    spec = make_spec(0, {"a": 0, "b": 1})
    board = board_of([spec], timeout=5.0)
    board.submitted(board.take(), "u1")
    board.observe([make_job(spec, "Processing")], now=100.0)
    assert board.next_deadline() == 105.0
    board.check_timeouts(104.9)
    assert board.points[0].status is Status.RUNNING
    board.check_timeouts(105.0)
    assert board.points[0].status is Status.TIMED_OUT
    assert "timed out after 5s" in (board.points[0].error or "")
    assert board.settled(wait=True)


def test_only_the_current_attempt_moves_a_point(make_spec, make_job):
    spec = make_spec(0, {"a": 0, "b": 1})
    board = Board(
        [Point(spec, Status.QUEUED, attempt=3)],
        max_running=1,
        retries=0,
        timeout=None,
        on_failure=OnFailure.CONTINUE,
    )
    board.submitted(board.take(), "u3")
    board.observe([make_job(spec, "Completed", attempt=2)], now=0.0)
    assert board.points[0].status is Status.PENDING
    board.observe([make_job(spec, "Completed", attempt=3)], now=0.0)
    assert board.points[0].status is Status.COMPLETED


def test_jobs_handed_over_come_in_order_and_leave_no_list_behind(make_spec, make_job):
    """The report takes the records from a list that no longer holds them, so each is let go
    once its row is made."""
    from batchrun.apply.runner import _handed_over

    jobs = [make_job(make_spec(index, {"a": index}), "Completed") for index in range(3)]
    given = list(jobs)
    taken = _handed_over(jobs)

    assert next(taken) is given[0] and jobs == []
    assert list(taken) == given[1:]
