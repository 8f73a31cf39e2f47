"""Benchmark: HTTP requests and wall time of ``batchrun apply`` against a naive client loop.

Run with ``.venv/bin/python bench/apply_sweep.py [JOBS]`` (default 300). A ``batchrun
serve`` child process runs the ``add`` step; a counting loopback proxy sits in front of
it. Side by side, for the same number of points:

- batchrun: ``batchrun apply`` (a subprocess, so its time includes interpreter start-up);
- baseline: pinexq-client's tool layer as its guide shows it — ``Job(client)
  .create_and_configure_rapidly(...)`` per point on 8 threads, then ``JobGroup.wait_all``
  and ``get_result`` per job.

Prints requests per job for both and their ratio (target: about 1.3 per job for apply),
plus jobs per second. No assertions: numbers for people.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
from pinexq.client.job_management import Job, JobGroup, ProcessingStep
from pinexq.client.core.api_event_manager import ApiEventManagerSingleton

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the loopback proxy lives with the tests

from tests.batch.loopback import LoopbackProxy  # noqa: E402

BATCHRUN = str(Path(sys.executable).parent / "batchrun")
STEPS = str(ROOT / "tests" / "steps" / "basic.py")
THREADS = 8


@contextmanager
def served(database: Path) -> Iterator[str]:
    command = [BATCHRUN, "serve", "--port", "0", "--db", str(database), "--steps", STEPS]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        yield server.stdout.readline().strip() if server.stdout else ""
    finally:
        server.terminate()
        server.wait(timeout=60)


def kinds(requests: list[str]) -> Counter[str]:
    """Requests grouped by method and resource type (ids dropped)."""
    counted: Counter[str] = Counter()
    for line in requests:
        method, path = line.split(" ", 1)
        parts = path.split("?", 1)[0].strip("/").split("/")
        counted[f"{method} {'/'.join(parts[:2] if len(parts) < 3 else [parts[1], parts[-1]])}"] += 1
    return counted


def run_apply(url: str, folder: Path, jobs: int) -> float:
    manifest = folder / "sweep.yaml"
    manifest.write_text(
        "version: 1\nbatch: bench\nstep: {function: add, version: \"1.0.0\"}\n"
        f"parameters: {{b: 1}}\ngrid: {{a: {{range: [0, {jobs}]}}}}\n"
        "name: \"bench-{{ index }}\"\nexecution: {submit: 8, max_running: 1000}\n",
        encoding="utf-8",
    )
    started = time.perf_counter()
    done = subprocess.run([BATCHRUN, "apply", str(manifest), "--endpoint", url, "-o", "json"],
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    report = json.loads(done.stdout)
    assert done.returncode == 0 and all(row["state"] == "Completed" for row in report["jobs"]), done.stderr
    return elapsed


def run_baseline(url: str, jobs: int) -> float:
    ApiEventManagerSingleton().sse_connection_cooldown_s = 0
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=30) as client:
        step = ProcessingStep.from_name(client, "add", "1.0.0")

        def create(index: int) -> Job:
            return Job(client).create_and_configure_rapidly(
                name=f"baseline-{index}", processing_step_instance=step,
                parameters=json.dumps({"a": index, "b": 1}), tags=["bench=baseline"],
            )

        with ThreadPoolExecutor(THREADS) as pool:
            created = list(pool.map(create, range(jobs)))
        JobGroup().add_jobs(created).wait_all(job_timeout_s=120)
        results = [job.get_result() for job in created]
    assert [result["sum"] for result in results] == [index + 1 for index in range(jobs)]
    return time.perf_counter() - started


def show(label: str, jobs: int, elapsed: float, requests: list[str]) -> float:
    per_job = len(requests) / jobs
    print(f"{label}: {jobs} jobs in {elapsed:.1f} s ({jobs / elapsed:.0f} jobs/s), "
          f"{len(requests)} requests = {per_job:.2f} per job")
    for kind, count in kinds(requests).most_common(6):
        print(f"    {count:6d}  {kind}")
    return per_job


def main() -> None:
    jobs = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        with served(folder / "jma.sqlite3") as url:
            with LoopbackProxy(url) as proxy:
                elapsed = run_apply(proxy.url, folder, jobs)
            ours = show("batchrun apply", jobs, elapsed, proxy.requests)
            with LoopbackProxy(url) as proxy:
                elapsed = run_baseline(proxy.url, jobs)
            theirs = show("baseline (Job + JobGroup)", jobs, elapsed, proxy.requests)
    print(f"requests ratio baseline/batchrun: {theirs / ours:.1f}x")


if __name__ == "__main__":
    main()
