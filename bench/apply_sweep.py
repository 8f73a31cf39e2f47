"""Benchmark: ``batchrun apply`` against three hand-written loops, side by side, one server.

Run with ``.venv/bin/python -m bench.apply_sweep [--sizes 100,1000,10000] [--slow 1000]``.
One ``batchrun serve --stats`` child process serves every run (no client shares its GIL;
its counters are the only truth about traffic). For each sweep of no-op jobs (and one of
``--slow`` jobs sleeping 50 ms) it runs, each in a child process of its own:

1. ``fluent``: the "Starting a job" guide's fluent chain, one job after another;
2. ``rapid``: ``ProcessingStep.from_name`` + ``create_and_configure_rapidly``, one job
   after another, then ``JobGroup.wait_all()``;
3. ``raw``: RapidSetupJob POSTs from 8 threads and count queries: what the server can take;
4. ``apply``: ``batchrun apply --endpoint URL`` on a fresh batch (``execution.submit`` 8,
   ``max_running`` the sweep size), timed from process start to exit (report written),
   then ``batchrun plan`` of the finished batch.

Every client runs ``--repeat`` times per sweep (default 3), the clients taking turns so
that a slow moment of the machine does not fall on one of them; each figure is that of
the run with the median wall time, and the spread of the wall times is shown next to it.

Per run: wall time from process start to the results in hand (for apply: to its exit,
after the report is written), jobs/s,
requests per job and peak open connections (at the server), peak RSS of the client
process. For the baselines the time inside their loop (after start-up and imports) is
shown too. Sequential baselines (1, 2) take minutes beyond 1,000
jobs and are skipped above ``--sequential-max`` (default 1000). The last line is every
figure as JSON. No assertions: numbers for people; targets are printed next to them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from batchrun.manifest.models import Execution
from bench.support import (
    BATCHRUN,
    STEPS,
    compile_sources,
    last_json,
    python_child,
    read_stats,
    reset_stats,
    run_child,
    served,
)

SLOW_MS = 50
TARGETS = {"fluent": 10.0, "rapid": 3.0}  # apply at least this many times faster (1,000 no-op jobs)
RAW_FACTOR = 1.3  # ...and within this factor of the raw limit
REQUESTS_PER_JOB = 1.3
PLAN_REQUESTS = 15
RSS_MB = 300.0


DEFAULT_SUBMIT: int = Execution.model_fields["submit"].default


@dataclass
class Row:
    case: str
    client: str
    jobs: int
    seconds: float
    loop_seconds: float | None
    requests: int
    peak_connections: int
    peak_mb: float
    runs: list[float] = field(default_factory=list)  # wall seconds of every repeat

    @property
    def rate(self) -> float:
        return self.jobs / self.seconds

    @property
    def per_job(self) -> float:
        return self.requests / self.jobs


def manifest(folder: Path, batch: str, jobs: int, ms: int, submit: int | None = 8) -> Path:
    """A no-op (or ``ms``-long) sweep of ``jobs`` points; ``submit`` None leaves ``execution`` at its defaults."""
    step = f"{{function: pause, version: \"1.0.0\"}}\nparameters: {{ms: {ms}}}" if ms else (
        "{function: noop, version: \"1.0.0\"}")
    execution = "" if submit is None else f"execution: {{submit: {submit}, max_running: {jobs}}}\n"
    path = folder / f"{batch}.yaml"
    path.write_text(
        f"version: 1\nbatch: {batch}\nstep: {step}\ngrid: {{index: {{range: [0, {jobs}]}}}}\n"
        f"name: \"{batch}-{{{{ index }}}}\"\n{execution}",
        encoding="utf-8",
    )
    return path


def measure(url: str, case: str, client: str, jobs: int, ms: int, folder: Path, *, submit: int | None = 8,
            stats_url: str | None = None) -> Row:
    """One run of ``client`` against ``url`` (the server's counters read at ``stats_url``, by
    default the same), ``submit`` requests in flight (apply's ``execution.submit``, raw's threads;
    None: apply's manifest leaves ``execution`` at its defaults, raw uses the default submit)."""
    stats_url = stats_url or url
    reset_stats(stats_url)
    if client == "apply":
        path = manifest(folder, f"sweep-{uuid.uuid4().hex[:8]}", jobs, ms, submit)
        done = run_child([BATCHRUN, "apply", str(path), "--endpoint", url], cwd=folder)
        report = json.loads((folder / "reports" / f"{path.stem}.json").read_text(encoding="utf-8"))
        states = {row["state"] for row in report["jobs"]}
        if done.returncode != 0 or states != {"Completed"} or len(report["jobs"]) != jobs:
            raise SystemExit(f"apply failed ({done.returncode}, {states}): {done.stderr[-2000:]}")
        (folder / "last.yaml").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        seconds, loop = done.seconds, None
    else:
        tag = f"bench={uuid.uuid4().hex[:8]}"
        done = python_child("bench.baselines", client, url, str(jobs), "pause" if ms else "noop", str(ms), tag,
                            str(submit or DEFAULT_SUBMIT))
        if done.returncode != 0:
            raise SystemExit(f"{client} failed: {done.stderr[-2000:]}")
        figures = last_json(done.stdout)
        seconds, loop = figures["done_at"] - done.started_at, figures["seconds"]
    stats = read_stats(stats_url)
    return Row(case, client, jobs, seconds, loop, stats["requests"], stats["peak_connections"], done.peak_mb)


def plan_requests(url: str, folder: Path) -> int:
    """Requests of ``batchrun plan`` on the batch the last apply finished."""
    reset_stats(url)
    done = run_child([BATCHRUN, "plan", str(folder / "last.yaml"), "--endpoint", url], cwd=folder)
    if done.returncode != 0:
        raise SystemExit(f"plan failed: {done.stderr[-2000:]}")
    return int(read_stats(url)["requests"])


def show(rows: list[Row]) -> None:
    apply = next(row for row in rows if row.client == "apply")
    print(f"\n{rows[0].case}")
    print(f"  {'client':8} {'wall s':>8} {'range s':>13} {'loop s':>7} {'jobs/s':>8} {'req/job':>8} "
          f"{'peak conn':>9} {'RSS MB':>7} {'vs apply':>9}")
    for row in rows:
        ratio = "" if row is apply else f"{row.seconds / apply.seconds:8.1f}x"
        loop = "" if row.loop_seconds is None else f"{row.loop_seconds:7.2f}"
        spread = f"{min(row.runs):.2f}-{max(row.runs):.2f}"
        print(f"  {row.client:8} {row.seconds:8.2f} {spread:>13} {loop:>7} {row.rate:8.0f} {row.per_job:8.2f} "
              f"{row.peak_connections:9d} {row.peak_mb:7.0f}   {ratio}")


def median_run(runs: list[Row]) -> Row:
    """The run with the median wall time (the lower middle one of an even count), with every wall time."""
    middle = sorted(runs, key=lambda row: row.seconds)[(len(runs) - 1) // 2]
    return replace(middle, runs=[row.seconds for row in runs])


def targets(rows: list[Row], plans: dict[int, int]) -> None:
    def mark(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    print("\ntargets")
    for row in (r for r in rows if r.client == "apply"):
        peers = {r.client: r for r in rows if r.case == row.case}
        checks = [f"{row.per_job:.2f} req/job <= {REQUESTS_PER_JOB} {mark(row.per_job <= REQUESTS_PER_JOB)}",
                  f"RSS {row.peak_mb:.0f} MB < {RSS_MB:.0f} {mark(row.peak_mb < RSS_MB)}"]
        if "raw" in peers and row.jobs >= 1000:  # below, interpreter start-up dominates
            factor = row.seconds / peers["raw"].seconds
            checks.append(f"{factor:.2f}x raw <= {RAW_FACTOR} {mark(factor <= RAW_FACTOR)}")
        for name, wanted in TARGETS.items():
            if name in peers and row.jobs == 1000 and "no-op" in row.case:
                speedup = peers[name].seconds / row.seconds
                checks.append(f"{speedup:.1f}x faster than {name} >= {wanted:g} {mark(speedup >= wanted)}")
        print(f"  {row.case}: " + "; ".join(checks))
    for jobs, count in plans.items():
        print(f"  plan of {jobs} existing jobs: {count} requests <= {PLAN_REQUESTS} {mark(count <= PLAN_REQUESTS)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="no-op sweep sizes, comma-separated")
    parser.add_argument("--slow", type=int, default=1000, help="jobs in the 50 ms sweep (0: skip it)")
    parser.add_argument("--sequential-max", type=int, default=1000,
                        help="largest sweep the one-job-after-another baselines run")
    parser.add_argument("--clients", default="fluent,rapid,raw,apply", help="which clients to run")
    parser.add_argument("--repeat", type=int, default=3, help="runs of every client per sweep (median shown)")
    options = parser.parse_args()
    cases = [(int(size), 0) for size in options.sizes.split(",") if size] + (
        [(options.slow, SLOW_MS)] if options.slow else [])
    clients = options.clients.split(",")
    compile_sources()
    started = datetime.now(UTC)
    print(f"{started:%Y-%m-%d %H:%M} UTC, {platform.node()}: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    rows: list[Row] = []
    plans: dict[int, int] = {}
    with tempfile.TemporaryDirectory(prefix="apply-sweep-") as scratch:
        folder = Path(scratch)
        with served(folder / "jma.sqlite3", steps=STEPS) as url:
            for jobs, ms in cases:
                case = f"{jobs} {'no-op' if not ms else f'{ms} ms'} jobs"
                chosen = [c for c in clients if c in ("raw", "apply") or jobs <= options.sequential_max]
                runs: dict[str, list[Row]] = {client: [] for client in chosen}
                for _ in range(options.repeat):
                    for client in chosen:
                        runs[client].append(measure(url, case, client, jobs, ms, folder))
                batch = [median_run(runs[client]) for client in chosen]
                show(batch)
                rows += batch
                if "apply" in clients and not ms:
                    plans[jobs] = plan_requests(url, folder)
    targets(rows, plans)
    print(json.dumps({"date": f"{started:%Y-%m-%d}", "rows": [asdict(row) for row in rows], "plan_requests": plans}))


if __name__ == "__main__":
    main()
