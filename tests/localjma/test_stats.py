"""The opt-in traffic counters: requests by route and open connections, counted at the server."""

from __future__ import annotations

from pathlib import Path

import httpx
from pinexq.client.job_management import Job, enter_jma

from batchrun.localjma import LocalJMA
from batchrun.localjma.http.stats import STATS_PATH, route_of
from tests.support import STEPS


def test_routes_blank_out_resource_ids() -> None:
    job = "/api/Job/0b4c1b8e-2f0c-4d43-9a53-3f1f1d6c9e2a/StartProcessing"

    assert route_of("POST", job) == "POST /api/Job/{id}/StartProcessing"
    assert route_of("GET", "/api/JobsRoot/Query") == "GET /api/JobsRoot/Query"


def test_counts_requests_and_connections_and_resets(database: Path) -> None:
    with LocalJMA(database, steps=[str(STEPS)], workers=0, stats=True) as jma:
        with httpx.Client(base_url=jma.url) as first, httpx.Client(base_url=jma.url) as second:
            httpx.delete(f"{jma.url}{STATS_PATH}")
            enter_jma(first)
            Job(second)
            seen = httpx.get(f"{jma.url}{STATS_PATH}").json()

            assert seen["requests"] == 2 + 4  # enter_jma, then Job's constructor (it reads the entry point and the roots)
            assert seen["by_route"]["GET /api/EntryPoint"] == 2
            assert seen["open_connections"] >= 2 and seen["peak_connections"] >= 2

        reset = httpx.delete(f"{jma.url}{STATS_PATH}").json()
        after = httpx.get(f"{jma.url}{STATS_PATH}").json()

    assert reset["requests"] == 0 and after["requests"] == 0  # the stats routes are not counted
    assert reset["peak_connections"] == reset["open_connections"]


def test_off_by_default(database: Path) -> None:
    with LocalJMA(database, workers=0) as jma:
        answer = httpx.get(f"{jma.url}{STATS_PATH}")

    assert answer.status_code == 404
