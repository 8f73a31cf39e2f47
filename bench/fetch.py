"""Benchmark: ``batchrun fetch`` of many small outputs against a loop of ``WorkData.download()``.

Run with ``.venv/bin/python -m bench.fetch [--jobs 1000] [--size 200] [--threads 1,4]``.
One ``batchrun serve --stats`` child process serves every client. ``batchrun apply
--endpoint URL`` first runs ``--jobs`` points of the ``emit`` step (``bench/data_steps.py``),
each writing one JSON output of about ``--size`` bytes (not timed here). Then, each in a
child process of its own and into an empty folder:

1. ``fetch``: ``batchrun fetch MANIFEST --endpoint URL --dest DIR --threads N`` for each
   ``--threads`` value, timed from process start to exit (it reads the batch's jobs and
   outputs from the platform itself);
2. ``loop``: ``bench/data_baselines.py``: every output WorkData of the apply's JSON report,
   one after another, ``WorkData.from_url(client, url).download()`` and written to a file,
   timed from process start to the last file written (the report, which gives it the
   URLs for free, is not counted against it).

Per client: wall time, files/s, requests per file (at the server) and the loop's time over
the client's. The last line is every figure as JSON. No assertions.
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
    files: int
    seconds: float
    requests: int
    bytes: int

    @property
    def rate(self) -> float:
        return self.files / self.seconds


def manifest(folder: Path, batch: str, jobs: int, size: int) -> Path:
    path = folder / f"{batch}.yaml"
    path.write_text(
        f"version: 1\nbatch: {batch}\nstep: {{function: emit, version: \"1.0.0\"}}\nparameters: {{size: {size}}}\n"
        f"grid: {{index: {{range: [0, {jobs}]}}}}\nname: \"{batch}-{{{{ index }}}}\"\n"
        f"execution: {{submit: 8, max_running: {jobs}}}\nreport: {{formats: [json]}}\n",
        encoding="utf-8",
    )
    return path


def files_in(folder: Path) -> tuple[int, int]:
    found = [path for path in folder.rglob("*") if path.is_file() and not path.name.endswith(".fetched.json")]
    return len(found), sum(path.stat().st_size for path in found)


def fetch(url: str, path: Path, dest: Path, threads: int) -> Row:
    reset_stats(url)
    done = run_child([BATCHRUN, "fetch", str(path), "--endpoint", url, "--dest", str(dest), "--threads", str(threads)],
                     cwd=path.parent)
    if done.returncode != 0:
        raise SystemExit(f"fetch failed ({done.returncode}): {done.stderr[-2000:]}")
    files, size = files_in(dest)
    return Row(f"fetch --threads {threads}", files, done.seconds, read_stats(url)["requests"], size)


def loop(url: str, report: Path, dest: Path) -> Row:
    reset_stats(url)
    done = python_child("bench.data_baselines", "download", url, str(report), str(dest))
    if done.returncode != 0:
        raise SystemExit(f"download loop failed: {done.stderr[-2000:]}")
    figures = last_json(done.stdout)
    files, size = files_in(dest)
    return Row("loop download()", files, figures["done_at"] - done.started_at, read_stats(url)["requests"], size)


def show(rows: list[Row], loop_row: Row | None) -> None:
    print(f"\n{rows[0].files} output files of about {rows[0].bytes // max(rows[0].files, 1)} bytes")
    print(f"  {'client':18} {'files':>6} {'wall s':>8} {'files/s':>8} {'req/file':>9} {'loop / this':>12}")
    for row in rows:
        ratio = "" if loop_row is None or row is loop_row else f"{loop_row.seconds / row.seconds:11.1f}x"
        print(f"  {row.client:18} {row.files:6d} {row.seconds:8.2f} {row.rate:8.0f} "
              f"{row.requests / row.files:9.2f} {ratio:>12}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=1000, help="jobs, one small output each")
    parser.add_argument("--size", type=int, default=200, help="bytes per output (about)")
    parser.add_argument("--threads", default="1,4", help="batchrun fetch --threads values, comma-separated")
    parser.add_argument("--no-loop", action="store_true", help="skip the WorkData.download() loop")
    options = parser.parse_args()
    compile_sources()
    started = datetime.now(UTC)
    print(f"{started:%Y-%m-%d %H:%M} UTC, {platform.node()}: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    rows: list[Row] = []
    loop_row = None
    with tempfile.TemporaryDirectory(prefix="bench-fetch-") as scratch:
        folder = Path(scratch)
        with served(folder / "jma.sqlite3", steps=DATA_STEPS) as url:
            path = manifest(folder, f"fetch-{uuid.uuid4().hex[:8]}", options.jobs, options.size)
            made = run_child([BATCHRUN, "apply", str(path), "--endpoint", url], cwd=folder)
            if made.returncode != 0:
                raise SystemExit(f"apply failed ({made.returncode}): {made.stderr[-2000:]}")
            print(f"apply of {options.jobs} jobs: {made.seconds:.1f} s")
            for threads in (int(value) for value in options.threads.split(",") if value):
                rows.append(fetch(url, path, folder / f"fetched-{threads}", threads))
            if not options.no_loop:
                loop_row = loop(url, folder / "reports" / f"{path.stem}.json", folder / "looped")
                rows.append(loop_row)
    show(rows, loop_row)
    print(json.dumps({"date": f"{started:%Y-%m-%d}", "jobs": options.jobs,
                      "rows": [{**asdict(row), "files_per_s": row.rate} for row in rows]}))


if __name__ == "__main__":
    main()
