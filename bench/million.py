"""Benchmark: ``validate`` and ``expand`` of a 1,000,000-point manifest, streaming.

Run with ``.venv/bin/python -m bench.million [--points 1000000]``. Each command runs in a
child process of its own (``bench.support.run_child``: wall time, CPU seconds and its own
peak RSS), ``expand`` writing to a file; the output is checked (one row or entry per point).
Targets: under 30 s and under 1 GB each. The load average is printed with the figures: on a
busy machine wall time stretches, CPU seconds much less. Figures for people, no assertions.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
from pathlib import Path

from bench.support import BATCHRUN, compile_sources, run_child

SECONDS, MEGABYTES = 30.0, 1024.0


def manifest(folder: Path, points: int) -> Path:
    """Four axes whose product is ``points`` (10 x 10 x 100 x the rest), a templated name and tag."""
    width = math.ceil(points / 10_000)
    path = folder / "million.yaml"
    path.write_text(
        "version: 1\nbatch: million\nstep: {function: train, version: \"1.0.0\"}\nparameters: {epochs: 10}\n"
        f"max_jobs: {10 * 10 * 100 * width}\n"
        f"grid:\n  lr: {{logspace: [-5, 0, 10]}}\n  depth: {{range: [1, 11]}}\n  seed: {{range: [0, 100]}}\n"
        f"  width: {{range: [0, {width}]}}\n"
        "name: \"{{ batch }}-lr{{ lr }}-d{{ depth }}-s{{ seed }}-w{{ width }}\"\n"
        "tags: [\"team=ml\", \"lr={{ lr }}\"]\n",
        encoding="utf-8")
    return path


def counted(output: Path, form: str) -> int:
    """Points in a command's output: validate's summary, JSON's count, the lines of CSV or a table."""
    if form == "validate":  # "million.yaml: valid, 1,000,000 jobs of ..."
        return int(output.read_text(encoding="utf-8").split()[2].replace(",", ""))
    if form == "json":
        with output.open(encoding="utf-8") as document:
            return int(json.load(document)["count"])
    with output.open(encoding="utf-8") as lines:
        return sum(1 for _ in lines) - 1  # the header


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    options = parser.parse_args()
    compile_sources()
    with tempfile.TemporaryDirectory(prefix="million-") as scratch:
        folder = Path(scratch)
        path = manifest(folder, options.points)
        print(f"{'command':24} {'points':>10} {'wall s':>7} {'CPU s':>7} {'RSS MB':>7}  targets: < {SECONDS:.0f} s, "
              f"< {MEGABYTES:.0f} MB; load average {_load()}")
        commands = {"validate": ["validate"], "expand -o json": ["expand", "-o", "json"],
                    "expand -o csv": ["expand", "-o", "csv"], "expand table": ["expand"]}
        for label, arguments in commands.items():
            output = folder / "out"
            done = run_child([BATCHRUN, *arguments, str(path)], cwd=folder, stdout=output)
            if done.returncode != 0:
                raise SystemExit(f"{label} failed: {done.stderr[-2000:]}")
            points = counted(output, label.split()[-1])
            verdict = "ok" if done.seconds < SECONDS and done.peak_mb < MEGABYTES else "MISSED"
            figures = f"{done.seconds:7.1f} {done.cpu_seconds:7.1f} {done.peak_mb:7.0f}"
            print(f"{label:24} {points:10,d} {figures}  {verdict}", flush=True)
        print(f"load average {_load()}")


def _load() -> str:
    """The 1, 5 and 15 minute load averages: how much others shared the machine's cores."""
    return " ".join(f"{load:.1f}" for load in os.getloadavg())


if __name__ == "__main__":
    main()
