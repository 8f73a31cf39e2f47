"""Benchmark: a database holding a million jobs of other batches must not slow a 1,000-job apply or plan.

Run with ``.venv/bin/python -m bench.bigdb [--jobs 1000000] [--points 1000] [--repeat 3]``
(about 4 minutes on a loaded 2-core machine, 3 of them seeding the database). The
database is seeded straight through the store's bulk insert (``Store.insert_jobs``), not
over HTTP: 1,000,000 jobs of other batches, like the leftovers of many sweeps (batches of
10 to 100,000 points, one to three runs, retried attempts, search trials, jobs of other
users without batchrun's tags, some of them sub-jobs; Completed, Error, Canceled,
DataMissing, Created and ReadyForProcessing, each with its event-log lines): about 1.2 GB.
No Pending or Processing ones: a server would run or recover those when it starts. It
lives in a temp directory for this run only.

Two ``batchrun serve --stats`` children then serve at once, one on an empty database and
one on the seeded one. Taking turns (the first one alternating), ``--repeat`` times each,
``batchrun apply`` of a fresh batch of ``--points`` no-op jobs runs against each, then
``batchrun plan`` of that batch. Shown per server: the median wall time and its range, the
server's CPU seconds over all runs (its own process, not the workers', which run the same
no-op jobs either way) and requests. The slowdown is the seeded server's figure over the
empty one's; the target is at most 1.2x. Last, SQLite's plans for the statements of a tag
query of one seeded batch (``Store.explain``). Figures for people, no assertions; the last
line is every figure as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from batchrun.identity import TAG_ATTEMPT, TAG_BATCH, TAG_KEY, TAG_RUN, TAG_SPEC, TAG_TRIAL
from batchrun.localjma.store.database import Store
from batchrun.localjma.store.filters import JobFilter, Order
from batchrun.localjma.store.rows import JobRow, StoredEvent, epoch_as_stored_time, stored_time
from batchrun.states import JobState
from bench.apply_sweep import manifest
from bench.support import BATCHRUN, Server, compile_sources, read_stats, reset_stats, run_child, serving

TARGET = 1.2
CHUNK = 20_000  # jobs per insert: one transaction each
STEPS = [str(uuid.UUID(int=number + 1)) for number in range(30)]  # steps of old sweeps, no longer registered
#: The end states of leftover jobs, and how often each occurs.
STATES = {
    JobState.COMPLETED: 80, JobState.ERROR: 11, JobState.CANCELED: 3, JobState.DATA_MISSING: 1,
    JobState.CREATED: 3, JobState.READY_FOR_PROCESSING: 2,
}
DAY = 86_400.0


@dataclass
class Figure:
    database: str
    command: str
    seconds: float
    server_cpu_seconds: float
    requests: int


class Leftovers:
    """Jobs as many sweeps leave them, generated from a fixed random seed."""

    def __init__(self, total: int) -> None:
        self._rng = random.Random(0)
        self._total = total
        self._moment = time.time() - 180 * DAY  # epoch seconds: the sweeps ran over half a year
        self._states = list(STATES)
        self._weights = list(STATES.values())

    def batches(self) -> Iterator[list[JobRow]]:
        """The jobs, a batch (or another user's group of jobs) at a time, oldest first."""
        made = 0
        while made < self._total:
            size = min(int(10 ** self._rng.uniform(1, 5)), self._total - made)
            jobs = self._batch(f"sweep-{made}", size) if self._rng.random() < 0.9 else self._foreign(made, size)
            made += len(jobs)
            yield jobs

    def _batch(self, batch: str, size: int) -> list[JobRow]:
        rng = self._rng
        step = rng.choice(STEPS)
        runs = rng.choice((["1"], ["1"], ["1", "2"], ["1", "baseline", "2"]))
        search = rng.random() < 0.1
        jobs: list[JobRow] = []
        for number in range(size):
            run = runs[number * len(runs) // size]
            attempt = 2 if rng.random() < 0.05 else 1
            tags = [f"{TAG_BATCH}={batch}", f"{TAG_KEY}={rng.getrandbits(64):016x}",
                    f"{TAG_SPEC}={rng.getrandbits(64):016x}", f"{TAG_RUN}={run}", f"{TAG_ATTEMPT}={attempt}"]
            if search:
                tags.append(f"{TAG_TRIAL}={number}")
            jobs.append(self._job(f"{batch}-{number}", step, tuple(tags), f'{{"index": {number}, "lr": 0.01}}'))
        return jobs

    def _foreign(self, made: int, size: int) -> list[JobRow]:
        """Jobs of another user, without batchrun's tags: the first one started the others."""
        step = self._rng.choice(STEPS)
        tags = (f"project=p{made % 17}", f"user=u{made % 5}")
        parent = self._job(f"pipeline-{made}", step, tags, "{}")
        children = [
            self._job(f"pipeline-{made}-{number}", step, tags, "{}", parent_id=parent.id) for number in range(size - 1)
        ]
        return [parent._replace(children=len(children)), *children]

    def _job(self, name: str, step: str, tags: tuple[str, ...], parameters: str,
             parent_id: str | None = None) -> JobRow:
        rng = self._rng
        state = rng.choices(self._states, self._weights)[0]
        self._moment += rng.uniform(0, 20)
        created = epoch_as_stored_time(self._moment)
        ended = epoch_as_stored_time(self._moment + rng.uniform(0.1, 60))
        finished = state not in (JobState.CREATED, JobState.READY_FOR_PROCESSING)
        return JobRow(
            0, str(uuid.UUID(int=rng.getrandbits(128), version=4)), name, state, step_id=step,
            parameters=parameters,
            result=f'{{"loss": {rng.random():.6f}}}' if state == JobState.COMPLETED else None,
            error="ValueError: the loss diverged" if state == JobState.ERROR else None,
            tags=tags, hidden=rng.random() < 0.02, parent_id=parent_id, worker_id="local-1" if finished else None,
            created_at=created, started_at=created if finished else None, completed_at=ended if finished else None,
        )


def events(jobs: list[JobRow]) -> list[StoredEvent]:
    """What the event log says of the jobs: created, and (for those started) how they ended."""
    logged = []
    for job in jobs:
        at = stored_time(job.created_at).timestamp()
        logged.append(StoredEvent("Created", job.id, JobState.CREATED, at))
        if job.completed_at is not None:
            logged.append(StoredEvent("StateChanged", job.id, job.state, at + 1))
    return logged


def seed(database: Path, total: int) -> None:
    """Fill ``database`` with ``total`` jobs of other batches, ``CHUNK`` at a time."""
    store = Store(database)
    try:
        pending: list[JobRow] = []
        for batch in Leftovers(total).batches():
            pending += batch
            if len(pending) >= CHUNK:
                _write(store, pending)
                pending = []
        _write(store, pending)
    finally:
        store.close()


def _write(store: Store, jobs: list[JobRow]) -> None:
    with store.transaction():
        store.insert_jobs(jobs)
        store.log_events(events(jobs))


def run_command(server: Server, database: str, command: str, path: Path, folder: Path) -> Figure:
    reset_stats(server.url)
    before = server.cpu_seconds()
    arguments = [BATCHRUN, command, str(path), "--endpoint", server.url] + (["--yes"] if command == "apply" else [])
    done = run_child(arguments, cwd=folder)
    if done.returncode != 0:
        raise SystemExit(f"{command} on the {database} database failed ({done.returncode}): {done.stderr[-2000:]}")
    requests = int(read_stats(server.url)["requests"])
    return Figure(database, command, done.seconds, server.cpu_seconds() - before, requests)


def measure(servers: dict[str, Server], points: int, repeat: int, folder: Path) -> list[Figure]:
    """Apply and plan of a fresh batch on each server, the servers taking turns (the first
    one alternating), ``repeat`` times."""
    figures = []
    for round_number in range(repeat):
        order = list(servers) if round_number % 2 == 0 else list(reversed(servers))
        for database in order:
            path = manifest(folder, f"fresh-{uuid.uuid4().hex[:8]}", points, 0)
            for command in ("apply", "plan"):
                figures.append(run_command(servers[database], database, command, path, folder))
        print(f"round {round_number + 1} of {repeat} measured", flush=True)
    return figures


def runs(figures: list[Figure], database: str, command: str) -> list[Figure]:
    """The runs of ``command`` on ``database``, fastest first."""
    return sorted((f for f in figures if f.database == database and f.command == command), key=lambda f: f.seconds)


def show(figures: list[Figure], jobs: int, points: int) -> dict[str, float]:
    """The median wall time of each command per database, and the server's CPU seconds over all
    runs (the kernel counts them in 10 ms ticks: a total is steadier than a median of plan's few)."""
    print(f"\n{points:,} no-op points, a fresh batch each time; load average {os.getloadavg()[0]:.1f}")
    print(f"  {'command':8} {'database':>18} {'wall s':>8} {'range s':>11} {'server CPU s, all':>17} {'requests':>9}")
    slowdowns = {}
    for command in ("apply", "plan"):
        measured = {database: runs(figures, database, command) for database in ("empty", "seeded")}
        medians = {database: done[(len(done) - 1) // 2] for database, done in measured.items()}
        cpu = {database: sum(f.server_cpu_seconds for f in done) for database, done in measured.items()}
        for database, label in (("empty", "empty"), ("seeded", f"{jobs:,} other jobs")):
            done, middle = measured[database], medians[database]
            spread = f"{done[0].seconds:.2f}-{done[-1].seconds:.2f}"
            print(f"  {command:8} {label:>18} {middle.seconds:8.2f} {spread:>11} {cpu[database]:17.2f} "
                  f"{middle.requests:9,d}")
        slowdowns[command] = medians["seeded"].seconds / medians["empty"].seconds
        slowdowns[f"{command} server CPU"] = cpu["seeded"] / max(cpu["empty"], 0.01)
    print(f"\ntargets: the seeded database slows each by at most {TARGET}x: " + "; ".join(
        f"{name} {factor:.2f}x {'ok' if factor <= TARGET else 'MISSED'}" for name, factor in slowdowns.items()))
    return slowdowns


def show_plans(database: Path) -> None:
    """SQLite's plans for the statements of a tag query of one batch, its count and a deep page."""
    store = Store(database)
    try:
        where = JobFilter(tags_all=(f"{TAG_BATCH}=sweep-0", f"{TAG_RUN}=1"))
        order = Order("created_at")
        reads = {
            "page": lambda: store.find_jobs(where, order, 1000, 0),
            "deep page": lambda: store.find_jobs(where, order, 1000, 50_000),
            "count": lambda: store.count_jobs(where),
        }
        for label, read in reads.items():
            for plan in store.explain(read):
                print(f"plan {label:10} {'; '.join(plan.steps)}")
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=1_000_000, help="jobs of other batches in the seeded database")
    parser.add_argument("--points", type=int, default=1000, help="points of each measured batch")
    parser.add_argument("--repeat", type=int, default=3, help="runs of apply and plan per database (median shown)")
    options = parser.parse_args()
    compile_sources()
    with tempfile.TemporaryDirectory(prefix="bigdb-") as scratch:
        folder = Path(scratch)
        seeded = folder / "seeded.sqlite3"
        began = time.perf_counter()
        seed(seeded, options.jobs)
        seeding = time.perf_counter() - began
        print(f"{options.jobs:,} jobs seeded in {seeding:.0f} s ({seeded.stat().st_size / 2**20:,.0f} MB)", flush=True)
        with serving(folder / "empty.sqlite3") as empty, serving(seeded) as big:
            figures = measure({"empty": empty, "seeded": big}, options.points, options.repeat, folder)
        slowdowns = show(figures, options.jobs, options.points)
        show_plans(seeded)
    print(json.dumps({"jobs": options.jobs, "points": options.points, "seed_seconds": seeding,
                      "load_average": os.getloadavg()[0], "slowdowns": slowdowns,
                      "figures": [asdict(figure) for figure in figures]}))


if __name__ == "__main__":
    main()
