"""The job-event broker behind the SSE stream (``/api/Events``) that the client's waits listen to.

The domain publishes job events here once they are committed. The client keeps one SSE
connection per ``httpx.Client`` and wakes a waiting job on any event whose
``ResourceLink`` equals the job's self href. Two details keep waits prompt instead of
falling back to the client's slow polling:

* a ``KeepAlive`` event with empty data every second, well inside the client's 5 s read
  timeout (an SSE comment would keep the socket open but never lets the client's worker
  thread reach its close check);
* lost-event races are papered over: a new connection first gets the latest event of every
  job that changed in the last ``replay_s`` seconds, and each keep-alive tick re-sends the
  event of every job that failed in the last ``reemit_s`` seconds, because a wait does not
  check for ``Error`` on its first read. A waiter whose job failed just before it
  subscribed is then woken within a second. Completed jobs are not re-sent: a wait
  subscribes before its first read, which sees ``Completed`` (re-sending them would cost
  a busy server thousands of events a second).

Events queued while a stream was busy go out as one chunk.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from batchrun.localjma.store.rows import StoredEvent
from batchrun.states import JobState

RESENT_STATES = frozenset({JobState.ERROR})
KEEP_ALIVE = b"event: KeepAlive\ndata:\n\n"


@dataclass(frozen=True, eq=False)
class _Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Sequence[StoredEvent] | None]


def _deliver(subscriber: _Subscriber, events: Sequence[StoredEvent] | None) -> None:
    """Queue ``events`` for a stream; from its own loop's thread without waking the loop
    through its self-pipe (a create publishes from there, once per job)."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is subscriber.loop:
        subscriber.queue.put_nowait(events)
    else:
        subscriber.loop.call_soon_threadsafe(subscriber.queue.put_nowait, events)


def _encode(events: Sequence[StoredEvent], link: Callable[[str], str]) -> bytes:
    return "".join(
        "event: ApiEvent\ndata: "
        + json.dumps({"EventType": e.event_type, "ResourceType": "Job", "ResourceLink": link(e.resource_id)})
        + "\n\n"
        for e in events
    ).encode()


class EventBroker:
    """Fans job events out to every open SSE stream; ``publish`` is safe from any thread."""

    def __init__(self, *, replay_s: float = 20.0, reemit_s: float = 8.0, tick_s: float = 1.0) -> None:
        self.replay_s = replay_s
        self.reemit_s = reemit_s
        self.tick_s = tick_s
        self._lock = threading.Lock()
        self._recent: deque[StoredEvent] = deque()
        self._failed: dict[str, StoredEvent] = {}
        self._subscribers: set[_Subscriber] = set()
        self._closed = False

    def publish(self, events: Sequence[StoredEvent]) -> None:
        if not events:
            return
        with self._lock:
            self._recent.extend(events)
            self._forget_old()
            for event in events:
                if event.state in RESENT_STATES:
                    self._failed[event.resource_id] = event
                elif event.resource_id in self._failed:
                    del self._failed[event.resource_id]
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            _deliver(subscriber, events)

    def close(self) -> None:
        """End every stream cleanly (the client then reconnects or notices the shutdown)."""
        with self._lock:
            self._closed = True
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            _deliver(subscriber, None)

    def _forget_old(self) -> None:
        horizon = time.time() - self.replay_s
        while self._recent and self._recent[0].at < horizon:
            self._recent.popleft()

    def _replay(self) -> list[StoredEvent]:
        """The latest recent event per job: one wake-up is all a waiter needs."""
        self._forget_old()
        latest = {event.resource_id: event for event in self._recent}
        return sorted(latest.values(), key=lambda e: e.at)

    def _recently_failed(self) -> list[StoredEvent]:
        horizon = time.time() - self.reemit_s
        with self._lock:
            for job_id in [j for j, e in self._failed.items() if e.at < horizon]:
                del self._failed[job_id]
            return list(self._failed.values())

    async def stream(self, link: Callable[[str], str]) -> AsyncIterator[bytes]:
        """The SSE body of one connection; ``link`` renders a job id as its self href."""
        subscriber = _Subscriber(asyncio.get_running_loop(), asyncio.Queue())
        with self._lock:
            if self._closed:
                return
            self._subscribers.add(subscriber)
            replay = self._replay()
        try:
            yield KEEP_ALIVE + _encode(replay, link)
            next_tick = time.monotonic() + self.tick_s
            while True:
                remaining = next_tick - time.monotonic()
                if remaining <= 0:
                    yield KEEP_ALIVE + _encode(self._recently_failed(), link)
                    next_tick = time.monotonic() + self.tick_s
                    continue
                try:
                    async with asyncio.timeout(remaining):
                        batch = await subscriber.queue.get()
                except TimeoutError:
                    continue
                if batch is None:
                    return
                await asyncio.sleep(0)  # requests ready to run publish first: one chunk for all
                batches: list[Sequence[StoredEvent] | None] = [batch]
                while not subscriber.queue.empty():
                    batches.append(subscriber.queue.get_nowait())
                yield _encode([event for queued in batches if queued is not None for event in queued], link)
                if None in batches:
                    return
        finally:
            with self._lock:
                self._subscribers.discard(subscriber)
