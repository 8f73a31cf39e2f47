"""The hand-written alternatives ``batchrun apply`` is measured against, one per child process.

``python -m bench.baselines KIND URL JOBS STEP MS TAG`` runs one baseline against a local
JMA and prints ``{"seconds", "done_at", "peak_mb", "jobs"}`` as its last line: ``seconds``
from the first request to the last result in hand, ``done_at`` that moment as epoch
seconds, so the benchmark can time it from process start (start-up and imports included),
as it does for ``batchrun apply``. pinexq-client is imported only by the baselines that
use it (its SSE thread then delays the exit; that delay is not counted).

- ``fluent``: PineXQ's "Starting a job" guide, one job after another: ``Job(client)
  .create().select_processing().set_tags().configure_parameters().start()
  .wait_for_completion()``, then ``get_result()``.
- ``rapid``: the guide's faster form, one job after another: ``ProcessingStep.from_name``
  once, ``Job(client).create_and_configure_rapidly(...)`` per job, then
  ``JobGroup.wait_all()`` and ``get_result()`` per job.
- ``raw``: the server's limit. RapidSetupJob POSTs from ``THREADS`` threads (or as many as
  the optional last argument says; a client each,
  no parsing of answers), then cheap count queries (page size 1, ``TotalEntities`` of the
  Pending and Processing jobs) until none is left, then the paged results (1000 a page).
"""

from __future__ import annotations

import functools
import json
import resource
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

THREADS = 8
PAGE_SIZE = 1000
WAIT_TIMEOUT_S = 600.0
POLL_PAUSE_S = 0.02
SIREN_JSON = {"Content-Type": "application/json"}


def parameters(index: int, ms: int) -> dict[str, Any]:
    """A point's parameters: the index makes each point distinct; ``ms`` only for ``pause``."""
    return {"index": index, "ms": ms} if ms else {"index": index}


def fluent(client: httpx.Client, jobs: int, step: str, ms: int, tag: str) -> list[Any]:
    from pinexq.client.job_management import Job

    results = []
    for index in range(jobs):
        job = (
            Job(client)
            .create(name=f"fluent-{index}")
            .select_processing(function_name=step)
            .set_tags([tag])
            .configure_parameters(**parameters(index, ms))
            .start()
            .wait_for_completion(timeout_s=WAIT_TIMEOUT_S)
        )
        results.append(job.get_result())
    return results


def rapid(client: httpx.Client, jobs: int, step: str, ms: int, tag: str) -> list[Any]:
    from pinexq.client.job_management import Job, JobGroup, ProcessingStep

    found = ProcessingStep.from_name(client, step, "1.0.0")
    created = [
        Job(client).create_and_configure_rapidly(
            name=f"rapid-{index}",
            processing_step_instance=found,
            parameters=json.dumps(parameters(index, ms)),
            tags=[tag],
        )
        for index in range(jobs)
    ]
    JobGroup().add_jobs(created).wait_all(job_timeout_s=WAIT_TIMEOUT_S)
    return [job.get_result() for job in created]


def _href(entity: dict[str, Any], rel: str) -> str:
    return next(link["href"] for link in entity["links"] if rel in link["rel"])


def _action(entity: dict[str, Any], name: str) -> str:
    return next(action["href"] for action in entity["actions"] if action["name"] == name)


def _query(client: httpx.Client, href: str, tag: str, *, size: int, state: str | None = None) -> dict[str, Any]:
    where: dict[str, Any] = {"TagsByAnd": [tag]} | ({"State": state} if state else {})
    query = {"Pagination": {"PageSize": size, "PageOffset": 0}, "Filter": where,
             "SortBy": {"PropertyName": "CreatedAt", "SortType": "Ascending"}}
    answer = client.post(href, content=json.dumps(query), headers=SIREN_JSON)
    answer.raise_for_status()
    return client.get(answer.headers["Location"]).json()  # type: ignore[no-any-return]


def raw(client: httpx.Client, jobs: int, step: str, ms: int, tag: str, threads: int = THREADS) -> list[Any]:
    entry = client.get("/api/EntryPoint").json()
    jobs_root = client.get(_href(entry, "JobsRoot")).json()
    setup, query = _action(jobs_root, "RapidSetupJob"), _action(jobs_root, "CreateJobQuery")
    steps_root = client.get(_href(entry, "ProcessingStepsRoot")).json()
    steps = {"Filter": {"FunctionName": step, "FunctionNameMatchType": "MatchExact", "Version": "1.0.0"}}
    answer = client.post(_action(steps_root, "CreateProcessingStepQuery"), content=json.dumps(steps),
                         headers=SIREN_JSON)
    step_url = _href(client.get(answer.headers["Location"]).json()["entities"][0], "self")

    def submit(share: range) -> None:
        with httpx.Client(timeout=client.timeout) as own:
            for index in share:
                body = {"Name": f"raw-{index}", "ProcessingStepUrl": step_url, "Tags": [tag],
                        "Parameters": json.dumps(parameters(index, ms)), "Start": True}
                own.post(setup, content=json.dumps(body), headers=SIREN_JSON).raise_for_status()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(submit, [range(n, jobs, threads) for n in range(threads)]))
    pause = threading.Event()
    while any(_query(client, query, tag, size=1, state=state)["properties"]["TotalEntities"]
              for state in ("Pending", "Processing")):
        pause.wait(POLL_PAUSE_S)
    results: list[Any] = []
    page: dict[str, Any] | None = _query(client, query, tag, size=PAGE_SIZE)
    while page is not None:
        results += [json.loads(item["properties"]["Result"] or "null") for item in page.get("entities", [])]
        following = [link["href"] for link in page["links"] if "next" in link["rel"]]
        page = client.get(following[0]).json() if following else None
    return results


BASELINES: dict[str, Callable[[httpx.Client, int, str, int, str], list[Any]]] = {
    "fluent": fluent,
    "rapid": rapid,
    "raw": raw,
}


def main(kind: str, url: str, jobs: int, step: str, ms: int, tag: str, threads: int = THREADS) -> None:
    if kind != "raw":
        import pinexq.client.job_management  # noqa: F401 - before the event manager (circular import)
        from pinexq.client.core.api_event_manager import ApiEventManagerSingleton

        ApiEventManagerSingleton().sse_connection_cooldown_s = 0  # the client's SSE thread would linger 30 s at exit
    with httpx.Client(base_url=url, timeout=60) as client:
        started = time.perf_counter()
        baseline = functools.partial(raw, threads=threads) if kind == "raw" else BASELINES[kind]
        results = baseline(client, jobs, step, ms, tag)
        seconds = time.perf_counter() - started
        done_at = time.time()
    expected = [index if ms else None for index in range(jobs)]
    if sorted(results, key=lambda value: -1 if value is None else value) != expected:
        raise SystemExit(f"{kind}: wrong results ({len(results)} of {jobs})")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "done_at": done_at, "peak_mb": peak_mb, "jobs": jobs}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6],
         *(int(value) for value in sys.argv[7:8]))
