"""Benchmark: the portal's pages over 10,000 jobs, as the server times them, and their query plans.

Run with ``.venv/bin/python -m bench.portal_jobs [JOBS]``. Fills a database with JOBS jobs
(default 10,000) in two batches, serves it with the local JMA (no workers) and requests
each page several times, printing the median server time (the ``Server-Timing`` header:
request in to response start, i.e. queries plus rendering) and the median time a client
waits. Then prints SQLite's plan for the queries behind the first Jobs page, a filtered
one, and the Batches page, so a full scan of the jobs table shows. Target: the first
Jobs page under 1 s at the server. No assertions: numbers for people.
"""

from __future__ import annotations

import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from batchrun.localjma import LocalJMA
from batchrun.localjma.store.filters import JobFilter, job_condition
from batchrun.states import JobState
from tests.portal.many_jobs import fill

REPEATS = 7
PAGES = {
    "Jobs, first page": "/jobs",
    "Jobs, page 100": "/jobs?page=100",
    "Jobs, Error by name": "/jobs?state=Error&sort=name",
    "Jobs, one batch": "/jobs?batch=sweep-a",
    "Batches": "/batches",
}


def server_ms(response: httpx.Response) -> float:
    found = re.search(r"app;dur=([\d.]+)", response.headers.get("server-timing", ""))
    return float(found.group(1)) if found else float("nan")


def time_pages(url: str) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        client.get("/jobs")  # the session cookie, and warm caches as a person's second look would be
        print(f"{'page':24} {'server ms':>10} {'client ms':>10}")
        for label, path in PAGES.items():
            served, waited = [], []
            for _ in range(REPEATS):
                began = time.perf_counter()
                response = client.get(path)
                waited.append((time.perf_counter() - began) * 1000)
                response.raise_for_status()
                served.append(server_ms(response))
            print(f"{label:24} {statistics.median(served):10.1f} {statistics.median(waited):10.1f}")


def show_plans(database: Path) -> None:
    with sqlite3.connect(database) as db:
        condition, args = job_condition(JobFilter(state=JobState.ERROR))
        batch_condition, batch_args = job_condition(JobFilter(tags_all=("batchrun.batch=sweep-a",)))
        queries = {
            "first page": ("SELECT * FROM jobs WHERE 1 ORDER BY seq DESC LIMIT 50 OFFSET 0", []),
            "Error by name": (f"SELECT * FROM jobs WHERE {condition} ORDER BY name, seq LIMIT 50", args),
            "count Error": (f"SELECT COUNT(*) FROM jobs WHERE {condition}", args),
            "one batch": (f"SELECT * FROM jobs WHERE {batch_condition} ORDER BY seq DESC LIMIT 50", batch_args),
        }
        for label, (sql, values) in queries.items():
            plan = "; ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", values))
            print(f"plan {label:14} {plan}")


def main() -> None:
    jobs = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "localjma.sqlite3"
        began = time.perf_counter()
        fill(database, jobs)
        print(f"{jobs} jobs written in {time.perf_counter() - began:.1f} s")
        with LocalJMA(database, workers=0) as jma:
            time_pages(jma.url)
        show_plans(database)


if __name__ == "__main__":
    main()
