"""Benchmark: 1,000 rapid setups of ``noop`` on the local JMA, then wait for all of them.

Run with ``.venv/bin/python -m bench.jma_smoke [JOBS]``. Prints jobs per second for the
RapidSetupJob endpoint (driven by several client threads through pinexq-client's own
action) and for completion (submission start to the last job done, watched with paged
queries by a tag), plus the time to fetch one 1,000-job query page. It runs twice: with
the server in a child process (``batchrun serve``) and in this process (``LocalJMA``), since
a server sharing the client's process also shares its GIL. Targets on a 2-core machine:
>= 500 setups/s and >= 200 completions/s. No assertions: numbers for people.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
from pinexq.client.job_management import JobQuery, ProcessingStep, enter_jma
from pinexq.client.job_management.model import JobStates, RapidJobSetupParameters

from bench.support import ROOT, compile_sources, served

STEPS = str(ROOT / "tests" / "steps" / "basic.py")
THREADS = 8
TERMINAL = {JobStates.completed, JobStates.error}


@contextmanager
def served_in_process(database: Path) -> Iterator[str]:
    from batchrun.localjma import LocalJMA

    with LocalJMA(database, steps=[STEPS]) as jma:
        yield jma.url


def submit(url: str, step_url: str, tag: str, count: int) -> None:
    with httpx.Client(base_url=url) as client:
        action = enter_jma(client).job_root_link.navigate().rapid_job_setup_action
        for index in range(count):
            action.execute(RapidJobSetupParameters(
                Name=f"noop {index}", ProcessingStepUrl=step_url, Tags=[tag], Parameters="{}", Start=True,
            ))


def finished(client: httpx.Client, tag: str) -> int:
    pages = JobQuery.create(client, tags_by_and=[tag], page_size=1000).execute().iter()
    return sum(1 for page in pages for job in page.jobs if job.state in TERMINAL)


def run(label: str, url: str, jobs: int) -> None:
    tag = f"bench={uuid.uuid4().hex[:8]}"
    pause = threading.Event()
    with httpx.Client(base_url=url, timeout=30) as client:
        step_url = str(ProcessingStep.from_name(client, "noop").self_link().get_url())
        submit(url, step_url, "bench=warm-up", THREADS)  # workers spawned, connections open
        while finished(client, "bench=warm-up") < THREADS:
            pause.wait(0.05)

        start = time.perf_counter()
        shares = [jobs // THREADS + (1 if i < jobs % THREADS else 0) for i in range(THREADS)]
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(lambda share: submit(url, step_url, tag, share), shares))
        submitted = time.perf_counter() - start
        while finished(client, tag) < jobs:
            pause.wait(0.05)
        completed = time.perf_counter() - start

        page_start = time.perf_counter()
        page = JobQuery.create(client, tags_by_and=[tag], page_size=1000).execute()
        page_seconds = time.perf_counter() - page_start

    print(f"{label}:")
    print(f"  rapid setup: {jobs} jobs in {submitted:.2f} s = {jobs / submitted:.0f} jobs/s ({THREADS} threads)")
    print(f"  completion:  {jobs} jobs in {completed:.2f} s = {jobs / completed:.0f} jobs/s")
    print(f"  one page of {len(page.jobs)} jobs (fetch + client parse): {page_seconds * 1000:.0f} ms")
    print(json.dumps({"mode": label, "jobs": jobs, "setup_per_s": round(jobs / submitted),
                      "completed_per_s": round(jobs / completed), "page_ms": round(page_seconds * 1000)}))


def main() -> None:
    jobs = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    compile_sources()
    with tempfile.TemporaryDirectory(prefix="jma-smoke-") as folder:
        with served(Path(folder) / "child.sqlite3", steps=STEPS) as url:
            run("server in a child process", url, jobs)
        with served_in_process(Path(folder) / "inprocess.sqlite3") as url:
            run("server in this process", url, jobs)


if __name__ == "__main__":
    main()
