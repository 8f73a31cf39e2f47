"""The watch loop's read window: re-reads start at the oldest job that can still change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from batchrun.apply.window import FULL_READ_INTERVAL, MARGIN, ReadWindow
from batchrun.platform import RemoteJob


@pytest.fixture
def job(make_spec: Callable[..., object], make_job: Callable[..., RemoteJob]) -> Callable[..., RemoteJob]:
    """A job of point ``index`` in ``state``, created ``minutes`` after a fixed epoch."""

    def make(index: int, state: str, minutes: int = 0) -> RemoteJob:
        return make_job(make_spec(index, {"a": index, "b": 0}), state, minutes=minutes)

    return make


def test_a_read_starts_at_the_oldest_unfinished_job(job: Callable[..., RemoteJob]) -> None:
    done, running, newest = job(0, "Completed"), job(1, "Processing", minutes=5), job(2, "Completed", minutes=9)
    window = ReadWindow([done, running, newest], read_at=0.0)

    assert window.since(1.0) == running.created_at - MARGIN


def test_with_everything_finished_a_read_starts_at_the_newest_job(job: Callable[..., RemoteJob]) -> None:
    window = ReadWindow([job(0, "Completed"), job(1, "Error", minutes=3)], read_at=0.0)

    assert window.since(1.0) == job(1, "Error", minutes=3).created_at - MARGIN


def test_nothing_seen_or_a_long_while_means_reading_everything(job: Callable[..., RemoteJob]) -> None:
    assert ReadWindow([], read_at=0.0).since(1.0) is None
    window = ReadWindow([job(0, "Completed")], read_at=0.0)
    assert window.since(FULL_READ_INTERVAL) is None
    window.saw([], None, read_at=FULL_READ_INTERVAL)
    assert window.since(FULL_READ_INTERVAL + 1) is not None


def test_a_read_updates_jobs_and_moves_the_window(job: Callable[..., RemoteJob]) -> None:
    running = job(0, "Processing")
    window = ReadWindow([running], read_at=0.0)
    finished = job(0, "Completed")
    later = job(1, "Completed", minutes=7)

    window.saw([finished, later], window.since(1.0), read_at=1.0)

    assert window.jobs[running.url].state == "Completed"
    assert window.since(2.0) == later.created_at - MARGIN


def test_the_jobs_seen_are_current_only_when_all_finished_and_read_after_the_last_create(job: Callable[..., RemoteJob]) -> None:
    window = ReadWindow([job(0, "Completed")], read_at=1.0)
    assert window.current(None) and window.current(0.5)
    assert not window.current(2.0)  # a job created after the last read is not in it
    window.saw([job(1, "Processing", minutes=1)], None, read_at=3.0)
    assert not window.current(2.0)  # read late enough, but a job may still change
    window.saw([job(1, "Completed", minutes=1)], None, read_at=4.0)
    assert window.current(2.0)


def test_owned_jobs_created_after_reads_only_later_jobs(platform: Any) -> None:
    step = platform.resolve_step("add", "1.0.0")
    for number in range(3):
        platform.create_job(name=f"windowed-{number}", step=step, parameters={"a": number, "b": 0},
                            tags=["batchrun.batch=windowed"], start=False)
    first, second, third = platform.owned_jobs("windowed")

    later = platform.owned_jobs("windowed", created_after=second.created_at)
    everything = platform.owned_jobs("windowed", created_after=first.created_at - timedelta(seconds=1))

    assert [job.url for job in later] == [third.url]
    assert [job.url for job in everything] == [first.url, second.url, third.url]
