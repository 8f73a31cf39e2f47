"""Connection pools shared by a few threads each, not by all of a command's threads.

httpcore's connection pool hands requests to connections under one lock, and each hand-out
looks at every connection and every waiting request: 64 submit threads on one pool spent
most of their time waiting on that lock, and ``apply`` with 64 requests in flight ran at
half the pace of a client with a pool per thread (BENCHMARKS.md, "A platform 50 ms away").
Here each thread keeps to one of a few pools, which a handful of threads share: a command
with few threads uses one pool, as before, and one with many spreads them out. A thread
started later (the next phase's threads) takes over the idle connections of the threads
that ended in its pool, so connections are not reopened.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import httpx

POOLS = 8
THREADS_PER_POOL = 8
"""Threads a pool takes before the next one is used: 64 requests in flight fill all 8."""


class ShardedTransport(httpx.BaseTransport):
    """``POOLS`` transports, each thread sending all its requests through one of them: when
    it first sends, the first pool with fewer than ``THREADS_PER_POOL`` live threads (all
    full: the one with the fewest)."""

    def __init__(self, limits: httpx.Limits, pools: int = POOLS) -> None:
        verify = httpx.create_ssl_context()  # one TLS context for all: each costs milliseconds to make
        self._pools = [httpx.HTTPTransport(verify=verify, limits=limits) for _ in range(pools)]
        self._users = [0] * pools  # live threads per pool
        self._lock = threading.Lock()
        self._mine = threading.local()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._pools[self._pool()].handle_request(request)

    def _pool(self) -> int:
        """This thread's pool, chosen when it first sends, given back when the thread ends
        (its thread-local seat is then dropped)."""
        seat: _Seat | None = getattr(self._mine, "seat", None)
        if seat is None:
            with self._lock:
                roomy = (pool for pool, users in enumerate(self._users) if users < THREADS_PER_POOL)
                chosen = next(roomy, self._users.index(min(self._users)))
                self._users[chosen] += 1
            seat = self._mine.seat = _Seat(chosen)
            weakref.finalize(seat, self._leave, chosen)
        return seat.pool

    def _leave(self, pool: int) -> None:
        with self._lock:
            self._users[pool] -= 1

    def close(self) -> None:
        for pool in self._pools:
            pool.close()


@dataclass(frozen=True)
class _Seat:
    """A thread's place in one pool, held in its thread-local storage for as long as it lives."""

    pool: int
