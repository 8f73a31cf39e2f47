"""Fault plans for the loopback proxy (``tests.batch.loopback``): which request gets which fault.

``RandomFaults`` faults each request with a fixed probability, drawn from a seeded
generator, and spreads the faults evenly over the kinds it is given; ``FirstFaults`` gives
one kind of fault to the first few creates, queries and event-stream connections. Both
stop faulting after a fixed count, so every test is bounded in count as the proxy's
``delay`` bounds it in time. The event stream only gets faults that happen before it
reaches the server: holding or swallowing the answer of an endless stream would hold the
proxy's thread forever.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Sequence

FORWARD = "forward"
CREATE = "/api/JobsRoot/RapidSetupJob"
QUERY = "/api/JobsRoot/Query"
EVENTS = "/api/Events"
BEFORE_THE_SERVER = ("drop", "502", "503", "503-retry-after", "429-retry-after")
AFTER_THE_SERVER = ("lose-answer", "drop-answer", "delay")
ALL_KINDS = BEFORE_THE_SERVER + AFTER_THE_SERVER


class RandomFaults:
    """A proxy rule: fault about ``rate`` of all requests, kinds in turn, at most ``limit``."""

    def __init__(self, rate: float, kinds: Sequence[str] = ALL_KINDS, *, seed: int = 7, limit: int = 10_000) -> None:
        self.rate = rate
        self.kinds = tuple(kinds)
        self.limit = limit
        self.injected: Counter[str] = Counter()
        self.on_creates: Counter[str] = Counter()
        self.requests = 0
        self._random = random.Random(seed)
        self._turn = 0
        self._lock = threading.Lock()

    def __call__(self, method: str, path: str) -> str:
        with self._lock:
            self.requests += 1
            if sum(self.injected.values()) >= self.limit or self._random.random() >= self.rate:
                return FORWARD
            kinds = [k for k in self.kinds if k in BEFORE_THE_SERVER] if path.startswith(EVENTS) else self.kinds
            if not kinds:
                return FORWARD
            kind = kinds[self._turn % len(kinds)]
            self._turn += 1
            self.injected[kind] += 1
            if method == "POST" and path == CREATE:
                self.on_creates[kind] += 1
            return kind

    @property
    def total(self) -> int:
        return sum(self.injected.values())


class FirstFaults:
    """A proxy rule: ``kind`` for the first ``count`` creates, job queries and event streams."""

    def __init__(self, kind: str, count: int = 2) -> None:
        self.kind = kind
        self.count = count
        self.injected: Counter[str] = Counter()  # by the path faulted
        self._lock = threading.Lock()

    def __call__(self, method: str, path: str) -> str:
        target = next((p for p in (CREATE, QUERY, EVENTS) if path.startswith(p)), None)
        if target is None or (target == EVENTS and self.kind not in BEFORE_THE_SERVER):
            return FORWARD
        with self._lock:
            if self.injected[target] >= self.count:
                return FORWARD
            self.injected[target] += 1
        return self.kind
