"""Adaptive search: jobs to within 1% of Branin's optimum, and the per-trial overhead.

Quality: ``batchrun apply`` runs a search (``parallel: 1``) against a ``batchrun serve``
child for each strategy and seed; the jobs needed is the position in the history of the
first trial within 1% of the optimum (the budget + 1 when none is). A grid of the same
resolution is the smallest n x n linspace grid with a point within 1%: it needs all n**2
jobs. Medians over the seeds; the target is a fifth of the grid's jobs. ``gp`` runs a
smaller budget (``--gp-budget``), as its model costs more per trial the more trials it has.

Overhead: the time per trial on the platform (first job created to last job completed,
the platform's clock, so process start and the report are left out) against Optuna's own
ask-and-tell loop with the same sampler, seed and objective in-process. Target: < 20 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

import optuna

from bench.search_steps import BRANIN_MINIMUM, branin_value
from bench.support import BATCHRUN, ROOT, run_child, served

SEARCH_STEPS = str(ROOT / "bench" / "search_steps.py")
THRESHOLD = BRANIN_MINIMUM * 1.01
BOUNDS = {"x1": (-5.0, 10.0), "x2": (0.0, 15.0)}


def manifest(folder: Path, *, strategy: str, budget: int, seed: int, parallel: int) -> Path:
    path = folder / f"{strategy}-{seed}-{parallel}.yaml"
    path.write_text(
        "version: 1\nbatch: branin\nstep: {function: branin, version: \"1.0.0\"}\n"
        f"search:\n  strategy: {strategy}\n  objective: {{result: value, direction: minimize}}\n"
        f"  budget: {budget}\n  parallel: {parallel}\n  seed: {seed}\n"
        "  space:\n    x1: {linspace: [-5, 10]}\n    x2: {linspace: [0, 15]}\n"
        f"name: \"branin-{{{{ trial }}}}\"\nreport: {{dir: reports-{strategy}-{seed}-{parallel}, formats: [json]}}\n",
        encoding="utf-8",
    )
    return path


def batchrun_search(url: str, folder: Path, *, strategy: str, budget: int, seed: int,
                    parallel: int) -> dict:
    """One search through ``batchrun apply``: its report and its time per trial."""
    path = manifest(folder, strategy=strategy, budget=budget, seed=seed, parallel=parallel)
    run = f"{strategy}-{seed}-{parallel}"
    child = run_child([BATCHRUN, "apply", str(path), "--endpoint", url, "--run", run, "-q"], cwd=folder)
    if child.returncode != 0:
        raise SystemExit(f"batchrun apply {path.name} exited {child.returncode}:\n{child.stderr}")
    report = json.loads((folder / f"reports-{run}" / "branin.json").read_text())
    rows = report["jobs"]
    start = min(datetime.fromisoformat(row["created_at"]) for row in rows)
    end = max(datetime.fromisoformat(row["completed_at"]) for row in rows)
    return {"report": report, "per_trial_s": (end - start).total_seconds() / len(rows), "wall_s": child.seconds}


def jobs_needed(values: list[float | None], budget: int) -> int:
    """The 1-based position of the first value within 1% of the optimum; budget + 1 if none."""
    return next((n for n, value in enumerate(values, 1) if value is not None and value <= THRESHOLD), budget + 1)


def grid_jobs() -> tuple[int, int]:
    """The smallest n whose n x n grid over the bounds has a point within 1%, and n**2."""
    n = 2
    while True:
        axis = [[low + (high - low) * i / (n - 1) for i in range(n)] for low, high in BOUNDS.values()]
        if min(branin_value(x1, x2) for x1 in axis[0] for x2 in axis[1]) <= THRESHOLD:
            return n, n * n
        n += 1


def optuna_loop(strategy: str, budget: int, seed: int) -> float:
    """Seconds per trial of Optuna's own ask-and-tell loop with the same objective."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    samplers = {"tpe": optuna.samplers.TPESampler, "gp": optuna.samplers.GPSampler,
                "random": optuna.samplers.RandomSampler, "cmaes": optuna.samplers.CmaEsSampler}
    study = optuna.create_study(direction="minimize", sampler=samplers[strategy](seed=seed))
    space = {name: optuna.distributions.FloatDistribution(*bounds) for name, bounds in BOUNDS.items()}
    # The first ask loads the sampler's libraries (PyTorch for gp); batchrun's clock starts
    # after it too, at the first job created.
    trial = study.ask(space)
    began = time.perf_counter()
    for asked in range(1, budget + 1):
        study.tell(trial, branin_value(trial.params["x1"], trial.params["x2"]))
        if asked < budget:
            trial = study.ask(space)
    return (time.perf_counter() - began) / budget


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds per strategy (medians over them)")
    parser.add_argument("--budget", type=int, default=300, help="trials per search (above the grid's 289 jobs)")
    parser.add_argument("--gp-budget", type=int, default=100,
                        help="trials per gp search: its model costs more per trial as trials grow")
    parser.add_argument("--strategies", default="tpe,gp,random,cmaes", help="comma-separated strategies")
    parser.add_argument("--parallel", type=int, default=1, help="trials in flight in the overhead runs")
    options = parser.parse_args()
    n, grid = grid_jobs()
    print(f"grid of the same resolution: {n} x {n} = {grid} jobs to come within 1% of {BRANIN_MINIMUM:.6f}")
    with tempfile.TemporaryDirectory() as scratch, served(Path(scratch) / "jma.sqlite3", steps=SEARCH_STEPS) as url:
        folder = Path(scratch)
        print(f"{'strategy':8} {'median jobs to 1%':>18} {'vs grid':>8} {'per trial (batchrun)':>21} "
              f"{'per trial (optuna)':>19} {'overhead':>9}")
        for strategy in options.strategies.split(","):
            budget = options.gp_budget if strategy == "gp" else options.budget
            needed, platform, in_process = [], [], []
            for seed in range(options.seeds):
                done = batchrun_search(url, folder, strategy=strategy, budget=budget, seed=seed,
                                       parallel=options.parallel)
                values = [entry["value"] for entry in done["report"]["search"]["history"]]
                needed.append(jobs_needed(values, budget))
                platform.append(done["per_trial_s"])
                in_process.append(optuna_loop(strategy, budget, seed))
            median = statistics.median(needed)
            ours, theirs = statistics.median(platform), statistics.median(in_process)
            print(f"{strategy:8} {median:>18g} {median / grid:>8.2f} {ours * 1000:>18.1f} ms "
                  f"{theirs * 1000:>16.1f} ms {(ours - theirs) * 1000:>6.1f} ms", flush=True)
    print(f"(jobs beyond the budget of {options.budget} ({options.gp_budget} for gp) count as the budget + 1; "
          "targets: <= 0.20 of the grid, overhead < 20 ms per trial)")


if __name__ == "__main__":
    main()
