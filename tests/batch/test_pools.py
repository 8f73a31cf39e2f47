"""The platform connection's pools: threads spread over them, and later threads reuse the
connections of those that ended (counted at a real local JMA)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from batchrun.client.pools import POOLS, THREADS_PER_POOL, ShardedTransport
from batchrun.localjma import LocalJMA
from batchrun.localjma.http.stats import STATS_PATH

THREADS = 2 * THREADS_PER_POOL


def in_threads(work: Callable[[], object], threads: int = THREADS) -> list[object]:
    """``work`` in ``threads`` threads alive at once: a barrier lines them up before and
    after it (a thread that ended gives its pool back)."""
    together = threading.Barrier(threads)
    results: list[object] = []

    def run() -> None:
        together.wait()
        results.append(work())
        together.wait()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalJMA]:
    with LocalJMA(tmp_path / "pools.sqlite3", workers=0, stats=True) as running:
        yield running


@pytest.mark.parametrize(("threads", "expected"), [
    (3, {0: 3}),  # a few threads share one pool, and its idle connections, as with one pool
    (POOLS * THREADS_PER_POOL, dict.fromkeys(range(POOLS), THREADS_PER_POOL)),
    (POOLS * (THREADS_PER_POOL + 1), dict.fromkeys(range(POOLS), THREADS_PER_POOL + 1)),
])
def test_threads_fill_a_pool_before_the_next(threads: int, expected: dict[int, int]) -> None:
    transport = ShardedTransport(httpx.Limits())
    try:
        chosen = in_threads(transport._pool, threads)
    finally:
        transport.close()
    assert Counter(chosen) == expected


def test_threads_that_replace_ended_ones_reuse_their_connections(server: LocalJMA) -> None:
    httpx.delete(f"{server.url}{STATS_PATH}")
    with httpx.Client(base_url=server.url, transport=ShardedTransport(httpx.Limits())) as client:

        def ask() -> int:
            return client.get("/api/EntryPoint").status_code

        first = in_threads(ask)
        opened = httpx.get(f"{server.url}{STATS_PATH}").json()["opened_connections"]
        second = in_threads(ask)
        reopened = httpx.get(f"{server.url}{STATS_PATH}").json()["opened_connections"]

    assert first == second == [200] * THREADS
    assert opened <= THREADS + 1  # one per thread, and the reading of the counts
    assert reopened - opened <= 1  # the second wave found the first wave's connections idle
