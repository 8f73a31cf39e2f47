"""Benchmark: a remote platform is not on loopback - ``apply`` and the raw client across 50 ms.

Run with ``.venv/bin/python -m bench.remote [--sizes 1000,10000] [--submit 8,16,32,64]``.
One ``batchrun serve --stats`` child serves; the clients reach it through ``bench.latency``'s
proxy, which adds ``--rtt`` (default 50 ms) to every request's round trip, as a PineXQ
deployment seen from a laptop. For each size and each number of requests in flight
(apply's ``execution.submit``, the raw client's threads), both clients run ``--repeat``
times in turns; the median is shown with apply's ratio to raw. A last row per size runs
apply with the manifest's ``execution`` left at its defaults (``submit``, ``max_running``),
as a user writes it, against raw with the default ``submit`` threads: the default is chosen
from these runs so that 1,000 jobs finish in under 10 s at 50 ms. Figures for people,
no assertions; the last line is every figure as JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import asdict
from pathlib import Path

from bench.apply_sweep import DEFAULT_SUBMIT, Row, measure, median_run
from bench.latency import far_away
from bench.support import STEPS, compile_sources, served


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="no-op sweep sizes, comma-separated")
    parser.add_argument("--submit", default="8,16,32,64", help="requests in flight to compare, comma-separated")
    parser.add_argument("--rtt", type=float, default=0.05, help="round-trip time added per request, seconds")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each client per case (median shown)")
    options = parser.parse_args()
    compile_sources()
    rows: list[Row] = []
    print(f"round-trip time {options.rtt * 1000:.0f} ms per request")
    print(f"  {'jobs':>6} {'submit':>6} {'raw s':>7} {'apply s':>8} {'apply/raw':>9} {'apply jobs/s':>12} "
          f"{'req/job':>7}")
    with tempfile.TemporaryDirectory(prefix="remote-") as scratch:
        folder = Path(scratch)
        with served(folder / "jma.sqlite3", steps=STEPS) as url, far_away(url, options.rtt) as remote:
            for jobs in (int(size) for size in options.sizes.split(",") if size):
                cases: list[int | None] = [int(value) for value in options.submit.split(",") if value]
                for submit in [*cases, None]:
                    shown = f"{submit}" if submit is not None else f"{DEFAULT_SUBMIT} (default)"
                    case = f"{jobs} no-op jobs, {shown} in flight, {options.rtt * 1000:.0f} ms RTT"
                    runs: dict[str, list[Row]] = {"raw": [], "apply": []}
                    for _ in range(options.repeat):
                        for client in runs:
                            runs[client].append(measure(remote, case, client, jobs, 0, folder, submit=submit,
                                                        stats_url=url))
                    raw, apply = median_run(runs["raw"]), median_run(runs["apply"])
                    rows += [raw, apply]
                    print(f"  {jobs:6d} {shown:>6} {raw.seconds:7.2f} {apply.seconds:8.2f} "
                          f"{apply.seconds / raw.seconds:9.2f} {apply.rate:12.0f} {apply.per_job:7.2f}", flush=True)
    print(json.dumps({"rtt": options.rtt, "rows": [asdict(row) for row in rows]}))


if __name__ == "__main__":
    main()
