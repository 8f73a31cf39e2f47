"""Benchmark: how apply, plan, status and report grow from 1,000 to 100,000 points.

Run with ``.venv/bin/python -m bench.scale [--sizes 1000,10000,100000]`` (about 5 minutes
with 100,000 on an idle 2-core machine, twice that on a busy one). For each size a fresh
``batchrun serve --stats`` child and database: the raw-httpx baseline (``bench.baselines
raw``, 8 threads), then ``batchrun apply`` of a fresh no-op batch of the same size (8 in
flight), then ``plan``, ``status`` and ``report`` of the finished batch, each in a child
process of its own (wall time, its peak RSS and CPU seconds, requests at the server). The server's own peak
RSS is read at the end. Each figure is shown with its growth factor per x10 points (linear
is 10). Targets at 100,000: apply at most 11x its 10,000 and 1.2x raw, every client and the
server under 250 MB; plan, status and report under 5 s. Figures for people, no assertions;
the last line is every figure as JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.apply_sweep import manifest
from bench.support import (
    BATCHRUN,
    ChildRun,
    compile_sources,
    last_json,
    python_child,
    read_stats,
    reset_stats,
    run_child,
    serving,
)

COMMANDS = ("apply", "plan", "status", "report")
LINEAR, APPLY_GROWTH, RAW_FACTOR, MEGABYTES, READ_SECONDS = 10.0, 11.0, 1.2, 250.0, 5.0


@dataclass
class Figure:
    jobs: int
    command: str
    seconds: float
    peak_mb: float
    requests: int
    cpu_seconds: float  # the client's: what a busy machine changes least


def run_command(url: str, command: str, path: Path, folder: Path) -> ChildRun:
    arguments = [BATCHRUN, command, str(path), "--endpoint", url]
    done = run_child(arguments + (["--yes"] if command == "apply" else []), cwd=folder)
    if done.returncode != 0:
        raise SystemExit(f"{command} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done


def measure(jobs: int, folder: Path) -> tuple[list[Figure], float]:
    """Every command's figures at ``jobs`` points, and the server's peak RSS."""
    figures = []
    with serving(folder / f"jma-{jobs}.sqlite3") as server:
        reset_stats(server.url)
        done = python_child("bench.baselines", "raw", server.url, str(jobs), "noop", "0", f"bench={uuid.uuid4().hex}")
        if done.returncode != 0:
            raise SystemExit(f"raw failed: {done.stderr[-2000:]}")
        raw_seconds = last_json(done.stdout)["done_at"] - done.started_at
        figures.append(Figure(jobs, "raw", raw_seconds, done.peak_mb, int(read_stats(server.url)["requests"]),
                              done.cpu_seconds))
        path = manifest(folder, f"scale-{jobs}", jobs, 0)
        for command in COMMANDS:
            reset_stats(server.url)
            done = run_command(server.url, command, path, folder)
            figures.append(Figure(jobs, command, done.seconds, done.peak_mb,
                                  int(read_stats(server.url)["requests"]), done.cpu_seconds))
        return figures, server.peak_mb()


def show(figures: list[Figure], servers: dict[int, float]) -> None:
    sizes = sorted(servers)
    print(f"\n  {'command':8} {'jobs':>8} {'wall s':>8} {'x per x10':>9} {'RSS MB':>7} {'x per x10':>9} "
          f"{'requests':>9} {'cpu s':>7}")
    for command in ("raw", *COMMANDS):
        previous: Figure | None = None
        for jobs in sizes:
            figure = next(f for f in figures if f.jobs == jobs and f.command == command)
            growth = "" if previous is None else f"{figure.seconds / previous.seconds:9.1f}"
            memory = "" if previous is None else f"{figure.peak_mb / previous.peak_mb:9.1f}"
            print(f"  {command:8} {jobs:8,d} {figure.seconds:8.2f} {growth:>9} {figure.peak_mb:7.0f} {memory:>9} "
                  f"{figure.requests:9,d} {figure.cpu_seconds:7.2f}")
            previous = figure
    print("  server peak RSS: " + ", ".join(f"{jobs:,} jobs {mb:.0f} MB" for jobs, mb in servers.items()))


def targets(figures: list[Figure], servers: dict[int, float]) -> None:
    def find(jobs: int, command: str) -> Figure:
        return next(f for f in figures if f.jobs == jobs and f.command == command)

    def mark(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    largest = max(servers)
    print(f"\ntargets at {largest:,} points")
    apply, raw = find(largest, "apply"), find(largest, "raw")
    if largest // 10 in servers:
        growth = apply.seconds / find(largest // 10, "apply").seconds
        print(f"  apply grows {growth:.1f}x for x10 <= {APPLY_GROWTH:g} {mark(growth <= APPLY_GROWTH)}")
    factor = apply.seconds / raw.seconds
    print(f"  apply {factor:.2f}x raw <= {RAW_FACTOR} {mark(factor <= RAW_FACTOR)}")
    for command in COMMANDS:
        figure = find(largest, command)
        print(f"  {command} RSS {figure.peak_mb:.0f} MB < {MEGABYTES:g} {mark(figure.peak_mb < MEGABYTES)}"
              + ("" if command == "apply" else
                 f"; {figure.seconds:.1f} s < {READ_SECONDS:g} {mark(figure.seconds < READ_SECONDS)}"))
    print(f"  server RSS {servers[largest]:.0f} MB < {MEGABYTES:g} {mark(servers[largest] < MEGABYTES)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="batch sizes, comma-separated")
    options = parser.parse_args()
    compile_sources()
    figures: list[Figure] = []
    servers: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="scale-") as scratch:
        for jobs in (int(size) for size in options.sizes.split(",") if size):
            measured, servers[jobs] = measure(jobs, Path(scratch))
            figures += measured
            print(f"{jobs:,} points measured", flush=True)
    show(figures, servers)
    targets(figures, servers)
    print(json.dumps({"figures": [asdict(f) for f in figures], "server_peak_mb": servers}))


if __name__ == "__main__":
    main()
