"""Benchmark: 1,000 rapid setups of ``noop`` on the local JMA, then wait for all of them.

Run with ``.venv/bin/python -m bench.jma_smoke [JOBS] [--light]``. Prints jobs per second for the
RapidSetupJob endpoint (driven by several client threads through pinexq-client's own
action) and for completion (submission start to the last job done, watched with paged
queries by a tag), plus the time to fetch one 1,000-job query page. It runs twice: with
the server in a child process (``batchrun serve``) and in this process (``LocalJMA``), since
a server sharing the client's process also shares its GIL.

pinexq-client costs about as much CPU per request as the server, and on 2 cores it shares
them with the server, so a third run measures the server's own capacity: the same POSTs
from one thread over ``IN_FLIGHT`` keep-alive sockets (prepared bytes, only the status line
read), completion watched by count queries, and the CPU seconds per job of the server
process and of its workers (``--light``: only this run). No assertions: numbers for people.
"""

from __future__ import annotations

import json
import selectors
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil
from pinexq.client.job_management import JobQuery, ProcessingStep, enter_jma
from pinexq.client.job_management.model import JobStates, RapidJobSetupParameters

from bench.support import ROOT, compile_sources, served, serving

STEPS = str(ROOT / "tests" / "steps" / "basic.py")
THREADS = 8
IN_FLIGHT = 16
SIREN_JSON = {"Content-Type": "application/json"}
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


def socket_submit(setup_url: str, body: bytes, count: int) -> None:
    """``count`` POSTs of ``body`` to ``setup_url`` over ``IN_FLIGHT`` keep-alive sockets from this
    thread; each answer must be a 201 without a body (RapidSetupJob's)."""
    target = urlsplit(setup_url)
    request = (
        f"POST {target.path} HTTP/1.1\r\nHost: {target.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    selector = selectors.DefaultSelector()
    sent = answered = 0
    for _ in range(min(IN_FLIGHT, count)):
        connection = socket.create_connection((target.hostname, target.port or 80))
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.sendall(request)
        sent += 1
        selector.register(connection, selectors.EVENT_READ, bytearray())
    while answered < count:
        for key, _ in selector.select():
            connection, received = key.fileobj, key.data
            assert isinstance(connection, socket.socket)
            received += connection.recv(65536)
            while b"\r\n\r\n" in received:  # one answer per header block: they have no body
                head, _, rest = bytes(received).partition(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 201"):
                    raise SystemExit(f"RapidSetupJob answered {head.decode(errors='replace')}")
                received[:] = rest
                answered += 1
                if sent < count:
                    connection.sendall(request)
                    sent += 1
    for key in list(selector.get_map().values()):
        key.fileobj.close()  # type: ignore[union-attr]
    selector.close()


def active_jobs(client: httpx.Client, query_url: str, tag: str) -> int:
    """How many jobs with ``tag`` are Pending or Processing: two count queries (page size 1)."""
    total = 0
    for state in ("Pending", "Processing"):
        query = {"Pagination": {"PageSize": 1, "PageOffset": 0}, "Filter": {"TagsByAnd": [tag], "State": state}}
        answer = client.post(query_url, content=json.dumps(query), headers=SIREN_JSON)
        answer.raise_for_status()
        total += int(client.get(answer.headers["Location"]).json()["properties"]["TotalEntities"])
    return total


def cpu_seconds(process: psutil.Process) -> tuple[float, float]:
    """CPU seconds of ``process`` itself and of its child processes (the workers)."""
    own = sum(process.cpu_times()[:2])
    children = 0.0
    for child in process.children(recursive=True):
        try:
            children += sum(child.cpu_times()[:2])
        except psutil.Error:
            continue
    return own, children


def run_light(label: str, database: Path, jobs: int) -> None:
    """The server's capacity: RapidSetupJob from one light client, and the server's CPU per job."""
    tag = f"bench={uuid.uuid4().hex[:8]}"
    with serving(database, steps=STEPS) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        jobs_root = client.get("/api/JobsRoot").json()
        actions = {action["name"]: action["href"] for action in jobs_root["actions"]}
        step_url = str(ProcessingStep.from_name(client, "noop").self_link().get_url())

        def body(job_tag: str) -> bytes:
            return json.dumps({"Name": "noop", "ProcessingStepUrl": step_url, "Tags": [job_tag],
                               "Parameters": "{}", "Start": True}).encode()

        socket_submit(actions["RapidSetupJob"], body("bench=warm-up"), IN_FLIGHT)
        pause = threading.Event()
        while active_jobs(client, actions["CreateJobQuery"], "bench=warm-up"):
            pause.wait(0.05)
        process = psutil.Process(server.pid)
        own_before, workers_before = cpu_seconds(process)
        start = time.perf_counter()
        socket_submit(actions["RapidSetupJob"], body(tag), jobs)
        submitted = time.perf_counter() - start
        while active_jobs(client, actions["CreateJobQuery"], tag):
            pause.wait(0.02)
        completed = time.perf_counter() - start
        own_after, workers_after = cpu_seconds(process)
    own_ms, workers_ms = (own_after - own_before) * 1000 / jobs, (workers_after - workers_before) * 1000 / jobs
    print(f"{label}:")
    print(f"  rapid setup: {jobs} jobs in {submitted:.2f} s = {jobs / submitted:.0f} jobs/s ({IN_FLIGHT} sockets)")
    print(f"  completion:  {jobs} jobs in {completed:.2f} s = {jobs / completed:.0f} jobs/s")
    print(f"  CPU per job: server {own_ms:.3f} ms, its workers {workers_ms:.3f} ms")
    print(json.dumps({"mode": label, "jobs": jobs, "setup_per_s": round(jobs / submitted),
                      "completed_per_s": round(jobs / completed), "server_cpu_ms": round(own_ms, 3),
                      "workers_cpu_ms": round(workers_ms, 3)}))


def main() -> None:
    jobs = int(next((arg for arg in sys.argv[1:] if arg.isdigit()), 1000))
    compile_sources()
    with tempfile.TemporaryDirectory(prefix="jma-smoke-") as folder:
        if "--light" in sys.argv:  # only the server's capacity
            run_light("server in a child process, light client", Path(folder) / "light.sqlite3", jobs)
            return
        with served(Path(folder) / "child.sqlite3", steps=STEPS) as url:
            run("server in a child process", url, jobs)
        with served_in_process(Path(folder) / "inprocess.sqlite3") as url:
            run("server in this process", url, jobs)
        run_light("server in a child process, light client", Path(folder) / "light.sqlite3", jobs)


if __name__ == "__main__":
    main()
