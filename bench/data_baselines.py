"""The hand-written loops the data benchmarks compare ``batchrun`` with, one per child process.

``python -m bench.data_baselines upload URL JOBS FILE TAG``: for each job, upload FILE
(``WorkData.create``) and create and start a ``weigh`` job on it
(``create_and_configure_rapidly`` with the input slot), one after another, then wait for
all of them. ``python -m bench.data_baselines download URL REPORT DEST``: download every
output WorkData listed in a batchrun JSON report, one after another
(``WorkData.from_url(...).download()``), into DEST. Both print ``{"seconds", "done_at",
"count", "bytes"}`` as their last line: ``seconds`` from the first request to the last
answer, ``done_at`` that moment as epoch seconds.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import httpx

WAIT_TIMEOUT_S = 600.0


def upload(client: httpx.Client, jobs: int, file: Path, tag: str) -> tuple[int, int]:
    from pinexq.client.job_management import Job, ProcessingStep, WorkData
    from pinexq.client.job_management.tool.job import InputDataSlotParameterFlexible

    step = ProcessingStep.from_name(client, "weigh", "1.0.0")
    content = file.read_bytes()
    started = []
    for index in range(jobs):
        data = WorkData(client).create(filename=file.name, binary=content, tags=[tag])
        started.append(Job(client).create_and_configure_rapidly(
            name=f"naive-{index}", processing_step_instance=step, tags=[tag],
            parameters=json.dumps({"index": index}),
            input_data_slots=[InputDataSlotParameterFlexible.create(index=0, work_data_instances=[data])],
        ))
    for job in started:
        job.wait_for_completion(timeout_s=WAIT_TIMEOUT_S)
    return jobs, jobs * len(content)


def download(client: httpx.Client, report: Path, dest: Path) -> tuple[int, int]:
    from httpx import URL
    from pinexq.client.job_management import WorkData

    outputs = [(job["name"], output) for job in json.loads(report.read_text(encoding="utf-8"))["jobs"]
               for output in job["outputs"]]
    total = 0
    for name, output in outputs:
        content = WorkData.from_url(client, URL(output["url"])).download()
        folder = dest / name / output["slot"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / output["name"]).write_bytes(content)
        total += len(content)
    return len(outputs), total


def main(kind: str, url: str, *arguments: str) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        started = time.perf_counter()
        if kind == "upload":
            count, size = upload(client, int(arguments[0]), Path(arguments[1]), arguments[2])
        else:
            count, size = download(client, Path(arguments[0]), Path(arguments[1]))
        seconds = time.perf_counter() - started
        done_at = time.time()
    print(json.dumps({"seconds": seconds, "done_at": done_at, "count": count, "bytes": size}))


if __name__ == "__main__":
    main(*sys.argv[1:])
