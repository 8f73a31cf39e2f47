"""The event broker's replay and re-send windows, with real streams on a real event loop."""

from __future__ import annotations

import asyncio
import time

from batchrun.localjma.http.events import KEEP_ALIVE, EventBroker
from batchrun.localjma.store.rows import StoredEvent


async def _first_chunks(broker: EventBroker, count: int) -> list[bytes]:
    stream = broker.stream(lambda job_id: f"http://h/api/Job/{job_id}")
    chunks = [await anext(stream) for _ in range(count)]
    await stream.aclose()
    return chunks


def test_a_new_stream_replays_only_recent_changes_once_per_job() -> None:
    broker = EventBroker(replay_s=20, reemit_s=5, tick_s=0.05)
    now = time.time()
    broker.publish([StoredEvent("Created", "old", "Created", now - 60)])
    broker.publish([StoredEvent("Created", "a", "Created", now), StoredEvent("StateChanged", "a", "Pending", now)])

    (first,) = asyncio.run(_first_chunks(broker, 1))

    assert first.startswith(KEEP_ALIVE)
    assert first.count(b"/api/Job/a") == 1 and b'"EventType": "StateChanged"' in first
    assert b"/api/Job/old" not in first


def test_ticks_resend_recently_failed_jobs_only() -> None:
    broker = EventBroker(replay_s=20, reemit_s=5, tick_s=0.05)
    now = time.time()
    broker.publish([
        StoredEvent("StateChanged", "failed", "Error", now),
        StoredEvent("StateChanged", "done", "Completed", now),
        StoredEvent("StateChanged", "long ago", "Error", now - 30),
        StoredEvent("StateChanged", "running", "Processing", now),
    ])

    _, tick = asyncio.run(_first_chunks(broker, 2))

    assert tick.startswith(KEEP_ALIVE)
    assert b"/api/Job/failed" in tick
    assert b"/api/Job/done" not in tick  # a wait's first read sees Completed (so the stream need not re-send it)
    assert b"/api/Job/long ago" not in tick and b"/api/Job/running" not in tick


def test_events_queued_while_a_stream_was_busy_go_out_as_one_chunk() -> None:
    broker = EventBroker(replay_s=20, tick_s=10)

    async def run() -> bytes:
        stream = broker.stream(lambda job_id: f"http://h/api/Job/{job_id}")
        await anext(stream)  # the stream is open (and subscribed)
        now = time.time()
        broker.publish([StoredEvent("Created", "a", "Pending", now)])
        broker.publish([StoredEvent("Created", "b", "Pending", now)])
        await asyncio.sleep(0)  # let both queued batches arrive
        chunk = await anext(stream)
        await stream.aclose()
        return chunk

    chunk = asyncio.run(run())

    assert b"/api/Job/a" in chunk and b"/api/Job/b" in chunk


def test_close_ends_open_streams() -> None:
    broker = EventBroker(tick_s=10)

    async def run() -> list[bytes]:
        stream = broker.stream(lambda job_id: job_id)
        chunks = [await anext(stream)]
        asyncio.get_running_loop().call_later(0.05, broker.close)
        chunks += [chunk async for chunk in stream]
        return chunks

    async def after_close() -> list[bytes]:
        return [chunk async for chunk in broker.stream(lambda job_id: job_id)]

    assert asyncio.run(run()) == [KEEP_ALIVE]
    assert asyncio.run(after_close()) == []
