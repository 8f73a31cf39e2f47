"""``python -m bench [NAME ...]``: run the named benchmarks (all by default), or ``--list`` them.

Each benchmark is a module of this package with a ``main()`` that reads its own options
from the command line; run one with options as ``python -m bench.<name> --help``.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "jma_smoke": "rapid-setup and completion rates of the local JMA (child process, in-process, light client)",
    "apply_sweep": "batchrun apply against the guide's loops and raw HTTP, 100 to 10,000 jobs",
    "embedded": "batchrun apply with the embedded local JMA: first and second runs",
    "expand_grid": "loading and expanding a 100,000-point manifest: time and memory",
    "uploads": "a 1,000-point sweep on one 10 MB input file: uploads and bytes sent, against a per-job upload loop",
    "search": "adaptive search on Branin: jobs to within 1% (tpe, gp, cmaes, random, a grid), "
              "per-trial overhead vs Optuna",
    "fetch": "batchrun fetch of 1,000 small outputs against a loop of WorkData.download()",
    "portal_jobs": "the portal's Jobs and Batches pages over 10,000 jobs: server time and query plans",
    "html_report": "the HTML report of 10,000 points in headless Chromium: time to interactive, sort, filter",
}


def main() -> None:
    names = sys.argv[1:]
    if names == ["--list"]:
        for name, what in BENCHMARKS.items():
            print(f"{name:12} {what}")
        return
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    for name in names or BENCHMARKS:
        print(f"\n=== bench.{name}: {BENCHMARKS[name]}", flush=True)
        sys.argv = [f"bench.{name}"]
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main()
