"""The collector pauses while records are built, and runs again once every builder is done."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from batchrun.collector import paused


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


@pytest.mark.usefixtures("collector_on")
def test_overlapping_threads_resume_the_collector_when_the_last_is_out() -> None:
    inside, leave = threading.Barrier(2), threading.Event()

    def build() -> None:
        with paused():
            inside.wait()
            leave.wait()

    other = threading.Thread(target=build)
    other.start()
    with paused():
        inside.wait()
        assert not gc.isenabled()
    assert not gc.isenabled(), "the other thread is still building"
    leave.set()
    other.join()
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    with paused():
        pass
    assert not gc.isenabled()
