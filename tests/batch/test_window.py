"""The watch loop's read window: re-reads start at the oldest job that can still change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from batchrun.apply.window import MARGIN, ReadWindow
from batchrun.client import RemoteJob
from batchrun.steps import resolve_step


@pytest.fixture
def job(make_spec: Callable[..., object], make_job: Callable[..., RemoteJob]) -> Callable[..., RemoteJob]:
    """A job of point ``index`` in ``state``, created ``minutes`` after a fixed epoch."""

    def make(index: int, state: str, minutes: int = 0) -> RemoteJob:
        return make_job(make_spec(index, {"a": index, "b": 0}), state, minutes=minutes)

    return make


def test_a_read_starts_at_the_oldest_unfinished_job(job: Callable[..., RemoteJob]) -> None:
    done, running, newest = job(0, "Completed"), job(1, "Processing", minutes=5), job(2, "Completed", minutes=9)
    window = ReadWindow([done, running, newest])

    assert window.since() == running.created_at - MARGIN


def test_with_everything_finished_a_read_starts_at_the_newest_job(job: Callable[..., RemoteJob]) -> None:
    window = ReadWindow([job(0, "Completed"), job(1, "Error", minutes=3)])

    assert window.since() == job(1, "Error", minutes=3).created_at - MARGIN
    assert ReadWindow([]).since() is None  # nothing seen yet: read everything


def test_a_read_updates_jobs_and_moves_the_window(job: Callable[..., RemoteJob]) -> None:
    running = job(0, "Processing")
    window = ReadWindow([running])
    later = job(1, "Completed", minutes=7)

    window.saw([job(0, "Completed"), later], window.since(), read_at=1.0)

    assert window.jobs[running.url].state == "Completed"
    assert window.since() == later.created_at - MARGIN


def test_an_acknowledged_job_missing_from_a_later_read_means_reading_everything(
    job: Callable[..., RemoteJob],
) -> None:
    window = ReadWindow([job(0, "Completed")])
    late, early = job(1, "Completed", minutes=1), job(2, "Completed", minutes=2)
    window.expect([(1.0, late.url), (5.0, early.url)])

    window.saw([early], window.since(), read_at=2.0)  # `late` was acknowledged before this read
    assert window.since() is None and not window.current()
    window.saw([late, early], None, read_at=6.0)
    assert window.since() is not None and window.current()


def test_a_job_acknowledged_while_a_read_was_under_way_counts_when_the_read_shows_it(
    job: Callable[..., RemoteJob],
) -> None:
    window = ReadWindow([])
    shown, pending = job(0, "Completed"), job(1, "Completed", minutes=1)
    window.expect([(2.5, shown.url), (2.6, pending.url)])

    window.saw([shown], None, read_at=2.0)  # both acknowledged after the read started

    assert not window.current()  # `pending` is still expected
    window.saw([pending], window.since(), read_at=3.0)
    assert window.current()


def test_a_job_still_missing_after_reading_everything_is_not_expected_any_more(
    job: Callable[..., RemoteJob],
) -> None:
    window = ReadWindow([])
    window.expect([(1.0, "http://jma.test/api/Job/deleted")])
    window.saw([job(0, "Completed")], None, read_at=2.0)

    assert window.since() is not None and window.current()


def test_the_jobs_seen_are_current_only_when_all_finished_and_all_acknowledged_seen(
    job: Callable[..., RemoteJob],
) -> None:
    running = job(1, "Processing", minutes=1)
    window = ReadWindow([job(0, "Completed")])
    assert window.current()
    window.expect([(1.0, running.url)])
    assert not window.current()  # acknowledged, not read yet
    window.saw([running], window.since(), read_at=2.0)
    assert not window.current()  # read, but it may still change
    window.saw([job(1, "Completed", minutes=1)], window.since(), read_at=3.0)
    assert window.current()


def test_an_acknowledgement_taken_after_a_read_showed_its_job_finished_is_current(
    job: Callable[..., RemoteJob],
) -> None:
    quick = job(0, "Completed")
    window = ReadWindow([])
    window.saw([quick], None, read_at=1.0)

    window.expect([(2.0, quick.url)])  # the submitter handled the create's answer only now

    assert window.current()


def test_owned_jobs_created_after_reads_only_later_jobs(platform: Any) -> None:
    step = resolve_step(platform, "add", "1.0.0")
    for number in range(3):
        platform.create_job(name=f"windowed-{number}", step=step, parameters={"a": number, "b": 0},
                            tags=["batchrun.batch=windowed"], start=False)
    first, second, third = platform.owned_jobs("windowed")

    later = platform.owned_jobs("windowed", created_after=second.created_at)
    everything = platform.owned_jobs("windowed", created_after=first.created_at - timedelta(seconds=1))

    assert [job.url for job in later] == [third.url]
    assert [job.url for job in everything] == [first.url, second.url, third.url]
