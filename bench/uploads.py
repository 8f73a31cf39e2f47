"""Benchmark: a sweep whose every point reads the same large file uploads it once.

Run with ``.venv/bin/python -m bench.uploads [--jobs 1000] [--mb 10] [--naive 20]``.
One ``batchrun serve --stats`` child process serves both clients (its counters are the
only truth about traffic); the ``weigh`` step (``bench/data_steps.py``) takes the file in an
input data slot and only looks at its size, so the jobs cost what the platform costs.

1. ``apply``: ``batchrun apply --endpoint URL`` of a ``--jobs``-point manifest whose
   ``inputs`` bind the slot to one ``--mb`` MB file of random bytes, timed from process
   start to exit (report written). Content addressing should upload it once.
2. ``naive``: the loop a user writes without it (``bench/data_baselines.py``): upload the
   file, then create and start the job on it, per job, one after another, for ``--naive``
   jobs (a few: each sends the whole file); its per-job figures are extrapolated to
   ``--jobs``.

Per client: wall time, requests per job, upload requests (the server's count of
``POST .../Upload``) and the bytes they carried (uploads x file size; the server counts
requests, not bytes), checked against the WorkData the server holds with the
``batchrun.sha256`` tag. The last line is every figure as JSON. No assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.support import (
    BATCHRUN,
    DATA_STEPS,
    compile_sources,
    last_json,
    python_child,
    read_stats,
    reset_stats,
    run_child,
    served,
)


@dataclass
class Row:
    client: str
    jobs: int
    seconds: float
    requests: int
    uploads: int
    bytes_sent: int
    extrapolated: bool = False

    @property
    def per_job(self) -> float:
        return self.requests / self.jobs


def uploads_of(stats: dict[str, Any]) -> int:
    return sum(count for route, count in stats["by_route"].items() if route.startswith("POST") and "Upload" in route)


def tagged_workdata(url: str) -> int:
    """How many WorkData the server holds with a ``batchrun.sha256=`` tag (one per distinct file uploaded)."""
    from pinexq.client.job_management.tool.workdata import WorkDataQuery

    with httpx.Client(base_url=url, timeout=60) as client:
        found = WorkDataQuery.create(client, tags_by_or=None).execute()  # every WorkData, first page
        total = 0
        for entity in found.workdatas:
            if any(str(tag).startswith("batchrun.sha256=") for tag in entity.tags or []):
                total += 1
        return total


def manifest(folder: Path, batch: str, jobs: int, data: str) -> Path:
    path = folder / f"{batch}.yaml"
    path.write_text(
        f"version: 1\nbatch: {batch}\nstep: {{function: weigh, version: \"1.0.0\"}}\n"
        f"inputs:\n  data: {{file: {data}}}\ngrid: {{index: {{range: [0, {jobs}]}}}}\n"
        f"name: \"{batch}-{{{{ index }}}}\"\nexecution: {{submit: 8, max_running: {jobs}}}\n"
        "report: {formats: [json]}\n",
        encoding="utf-8",
    )
    return path


def apply(url: str, folder: Path, jobs: int, data: Path) -> Row:
    reset_stats(url)
    path = manifest(folder, f"uploads-{uuid.uuid4().hex[:8]}", jobs, data.name)
    done = run_child([BATCHRUN, "apply", str(path), "--endpoint", url], cwd=folder)
    report = json.loads((folder / "reports" / f"{path.stem}.json").read_text(encoding="utf-8"))
    states = {row["state"] for row in report["jobs"]}
    if done.returncode != 0 or states != {"Completed"} or len(report["jobs"]) != jobs:
        raise SystemExit(f"apply failed ({done.returncode}, {states}): {done.stderr[-2000:]}")
    stats = read_stats(url)
    uploads = uploads_of(stats)
    return Row("apply", jobs, done.seconds, stats["requests"], uploads, uploads * data.stat().st_size)


def naive(url: str, jobs: int, data: Path) -> Row:
    reset_stats(url)
    done = python_child("bench.data_baselines", "upload", url, str(jobs), str(data), f"bench={uuid.uuid4().hex[:8]}")
    if done.returncode != 0:
        raise SystemExit(f"naive upload loop failed: {done.stderr[-2000:]}")
    figures = last_json(done.stdout)
    stats = read_stats(url)
    uploads = uploads_of(stats)
    return Row("naive", jobs, figures["done_at"] - done.started_at, stats["requests"], uploads,
               uploads * data.stat().st_size)


def extrapolate(row: Row, jobs: int) -> Row:
    """``row``'s per-job figures times ``jobs`` (its start-up scaled too: a slight overestimate)."""
    scale = jobs / row.jobs
    return Row(row.client, jobs, row.seconds * scale, round(row.requests * scale), round(row.uploads * scale),
               round(row.bytes_sent * scale), extrapolated=True)


def show(rows: list[Row], size: int) -> None:
    print(f"\n{rows[0].jobs} jobs, one {size / 1e6:.0f} MB input file each (the same file)")
    print(f"  {'client':16} {'jobs':>5} {'wall s':>8} {'req/job':>8} {'uploads':>8} {'MB sent':>9} {'MB/job':>8}")
    for row in rows:
        name = row.client + (" (extrap.)" if row.extrapolated else "")
        print(f"  {name:16} {row.jobs:5d} {row.seconds:8.2f} {row.per_job:8.2f} {row.uploads:8d} "
              f"{row.bytes_sent / 1e6:9.1f} {row.bytes_sent / row.jobs / 1e6:8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=1000, help="points of the sweep")
    parser.add_argument("--mb", type=float, default=10, help="size of the shared input file, MB")
    parser.add_argument("--naive", type=int, default=20, help="jobs of the upload-per-job loop (0: skip it)")
    options = parser.parse_args()
    compile_sources()
    started = datetime.now(UTC)
    print(f"{started:%Y-%m-%d %H:%M} UTC, {platform.node()}: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="bench-uploads-") as scratch:
        folder = Path(scratch)
        data = folder / "shared.bin"
        size = int(options.mb * 1e6)
        data.write_bytes(os.urandom(size))
        with served(folder / "jma.sqlite3", steps=DATA_STEPS) as url:
            rows = [apply(url, folder, options.jobs, data)]
            tagged = tagged_workdata(url)
            if options.naive:
                measured = naive(url, options.naive, data)
                rows += [measured, extrapolate(measured, options.jobs)]
    show(rows, size)
    print(f"  WorkData on the server tagged batchrun.sha256=: {tagged}")
    if len(rows) > 1:
        factor = rows[-1].bytes_sent / max(rows[0].bytes_sent, 1)
        print(f"  bytes sent, naive / apply at {options.jobs} jobs: {factor:.0f}x")
    print(json.dumps({"date": f"{started:%Y-%m-%d}", "file_bytes": size, "sha256_tagged_workdata": tagged,
                      "rows": [asdict(row) for row in rows]}))


if __name__ == "__main__":
    main()
