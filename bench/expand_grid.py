"""Benchmark: load and expand a 100,000-point manifest; time and peak memory.

Run with ``python -m bench.expand_grid`` (or ``python bench/expand_grid.py``). Each
measurement runs in a fresh child process so peak memory is that of the work alone.
The baseline is the bare cartesian product into dicts — the least any expansion must
do — so the ratio shows what keys, hashes and templates cost on top. Targets: under
5 s and under 300 MB for 100,000 jobs.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MANIFEST = """version: 1
batch: bench
step: {function: train, version: "1.0.0"}
parameters: {epochs: 10}
grid:
  lr: {logspace: [-5, 0, 25]}
  depth: {range: [1, 41]}
  seed: {range: [0, 100]}
name: "{{ batch }}-lr{{ lr }}-d{{ depth }}-s{{ seed }}"
tags: ["team=ml", "lr={{ lr }}"]
"""
JOBS = 25 * 40 * 100


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(kind: str, folder: str) -> None:
    """Do one measurement in this process and print it as JSON."""
    import itertools

    from batchrun.manifest import expand, load_manifest

    before = _rss_mb()
    start = time.perf_counter()
    if kind == "baseline":
        axes = [range(25), range(1, 41), range(100)]
        count = len([dict(zip(("lr", "depth", "seed"), point, strict=True)) for point in itertools.product(*axes)])
    else:
        count = len(expand(load_manifest(Path(folder) / "bench.yaml")))
    seconds = time.perf_counter() - start
    print(json.dumps({"count": count, "seconds": seconds, "peak_mb": _rss_mb(), "start_mb": before}))


def _measure(kind: str, folder: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.expand_grid", "--child", kind, folder],
        capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1],
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def main() -> None:
    """Print time, per-job cost, peak memory and the ratio to the bare product."""
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "bench.yaml").write_text(MANIFEST)
        baseline = _measure("baseline", folder)
        runs = [_measure("expand", folder) for _ in range(3)]
    best = min(runs, key=lambda run: run["seconds"])
    assert best["count"] == JOBS == baseline["count"]
    growth = best["peak_mb"] - best["start_mb"]
    print(f"expand {JOBS:,} jobs (3 runs, best): {best['seconds']:.2f} s, {best['seconds'] / JOBS * 1e6:.1f} µs/job")
    print(f"peak RSS {best['peak_mb']:.0f} MB (process), +{growth:.0f} MB for the expansion")
    print(f"baseline (bare product into dicts): {baseline['seconds']:.3f} s; "
          f"ratio {best['seconds'] / baseline['seconds']:.0f}x")
    print(f"targets: < 5 s -> {'ok' if best['seconds'] < 5 else 'MISSED'}, "
          f"< 300 MB -> {'ok' if best['peak_mb'] < 300 else 'MISSED'}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], sys.argv[3])
    else:
        main()
