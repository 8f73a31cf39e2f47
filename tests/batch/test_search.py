"""Adaptive search against the real local JMA: every strategy, the budget, repeats,
reproducibility, a missing objective, plan/status/report, and SIGKILL-and-resume.

Trials run the ``add`` test step (milliseconds each); budgets stay small.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from batchrun.client import Platform
from batchrun.search.trials import trial_number
from tests.serving import ServeProcess
from tests.support import STEPS, read_report, running, wait_until


def search_text(batch: str, *, strategy: str = "tpe", budget: int = 10, parallel: int = 2, seed: int | None = 0,
                space: str = "a: {linspace: [-2, 2]}\n    b: {range: [-3, 4]}", objective: str = "sum",
                function: str = "add", parameters: str = "{}") -> str:
    seed_line = f"  seed: {seed}\n" if seed is not None else ""
    return (
        "version: 1\n"
        f"batch: {batch}\n"
        f'step: {{function: {function}, version: "1.0.0"}}\n'
        f"local: {{steps: [{STEPS}], workers: 2}}\n"
        f"parameters: {parameters}\n"
        "search:\n"
        f"  strategy: {strategy}\n"
        f"  objective: {{result: {objective}, direction: minimize}}\n"
        f"  budget: {budget}\n"
        f"  parallel: {parallel}\n"
        + seed_line
        + f"  space:\n    {space}\n"
    )


@pytest.fixture
def write_search(tmp_path: Path):
    def write(batch: str, **fields) -> Path:
        path = tmp_path / f"{batch}.yaml"
        path.write_text(search_text(batch, **fields), encoding="utf-8")
        return path

    return write


def trials_of(platform: Platform, batch: str, run: str = "1") -> dict[int, list]:
    found: dict[int, list] = {}
    for job in platform.owned_jobs(batch, run=run):
        found.setdefault(trial_number(job), []).append(job)
    return found


@pytest.mark.parametrize("strategy", ["tpe", "gp", "random", "cmaes", "qmc"])
def test_each_strategy_runs_exactly_its_budget(strategy, cli, jma, platform, write_search):
    budget = 12  # beyond the 10 random start-up trials of tpe and gp, so their models propose too
    path = write_search(f"s-{strategy}", strategy=strategy, budget=budget, parallel=3)
    result = cli(["apply", str(path), "--endpoint", jma.url])
    assert result.exit_code == 0, result.stderr
    trials = trials_of(platform, f"s-{strategy}")
    assert sorted(trials) == list(range(budget)) and all(len(jobs) == 1 for jobs in trials.values())
    assert len({jobs[0].key for jobs in trials.values()}) == budget
    report = read_report(path, f"s-{strategy}")
    best = report["search"]["best_value"]
    assert report["jobs"][0]["result"]["sum"] == best == min(row["result"]["sum"] for row in report["jobs"])
    assert len(report["search"]["history"]) == budget

    again = cli(["apply", str(path), "--endpoint", jma.url])
    assert again.exit_code == 0, again.stderr
    assert f"{budget} trials finished, 0 running, 0 of {budget} left" in again.stderr
    assert len(platform.owned_jobs(f"s-{strategy}")) == budget


def test_a_seed_and_parallel_1_propose_the_same_trials_in_order(cli, jma, platform, write_search):
    path = write_search("repro", budget=12, parallel=1, seed=7)
    for run in ("first", "second"):
        result = cli(["apply", str(path), "--endpoint", jma.url, "--run", run])
        assert result.exit_code == 0, result.stderr

    def proposals(run: str) -> list[dict]:
        trials = trials_of(platform, "repro", run)
        return [json.loads(trials[number][0].parameters) for number in sorted(trials)]

    first = proposals("first")
    assert len(first) == 12 and first == proposals("second")
    # a fresh study per run label: the second run did not reuse the first one's jobs
    assert len(platform.owned_jobs("repro")) == 24


def test_proposals_equal_to_earlier_trials_reuse_them_and_use_no_budget(cli, jma, platform, write_search):
    path = write_search("repeats", strategy="random", budget=6, parallel=1, space="a: [1, 2, 3]",
                        parameters="{b: 10}")
    result = cli(["apply", str(path), "--endpoint", jma.url])
    assert result.exit_code == 0, result.stderr
    jobs = platform.owned_jobs("repeats")
    assert sorted(json.loads(job.parameters)["a"] for job in jobs) == [1, 2, 3]
    assert "space looks exhausted after 3 of 6 trials" in result.stderr


def test_a_missing_objective_fails_the_trial_not_the_apply(cli, jma, platform, write_search):
    path = write_search("no-objective", budget=3, parallel=3, objective="metrics.loss")
    result = cli(["apply", str(path), "--endpoint", jma.url])
    assert result.exit_code == 1
    assert "3 of 3 trials failed or gave no 'metrics.loss'" in result.stderr
    assert len(platform.owned_jobs("no-objective")) == 3
    history = read_report(path, "no-objective")["search"]["history"]
    assert [entry["value"] for entry in history] == [None] * 3
    assert all("'metrics.loss' is not in the job's result (found: 'sum', 'product')" in entry["error"]
               for entry in history)


def test_failed_jobs_count_against_the_budget(cli, jma, platform, write_search):
    path = write_search("failing", function="fail", budget=4, parallel=2, objective=".",
                        space="message: [x, y, z, w, v, u]")
    result = cli(["apply", str(path), "--endpoint", jma.url])
    assert result.exit_code == 1
    assert len(platform.owned_jobs("failing")) == 4
    again = cli(["apply", str(path), "--endpoint", jma.url])
    assert "4 trials finished, 0 running, 0 of 4 left" in again.stderr
    assert len(platform.owned_jobs("failing")) == 4


def test_retries_are_attempts_of_the_same_trial(cli, jma, platform, write_search, tmp_path):
    path = write_search("retried", function="fail", budget=2, parallel=2, objective=".",
                        space="message: [x, y, z]")
    path.write_text(path.read_text() + "execution: {retries: 1}\n")
    assert cli(["apply", str(path), "--endpoint", jma.url]).exit_code == 1
    trials = trials_of(platform, "retried")
    assert sorted(trials) == [0, 1] and all(sorted(job.attempt for job in jobs) == [1, 2] for jobs in trials.values())


def test_no_wait_submits_the_first_trials_and_a_rerun_finishes_the_budget(cli, jma, platform, write_search):
    path = write_search("later", budget=5, parallel=2)
    first = cli(["apply", str(path), "--endpoint", jma.url, "--no-wait"])
    assert first.exit_code == 0 and len(platform.owned_jobs("later")) == 2, first.stderr
    assert cli(["apply", str(path), "--endpoint", jma.url]).exit_code == 0
    assert sorted(trials_of(platform, "later")) == list(range(5))


def test_plan_status_and_report_show_the_search(cli, jma, platform, write_search):
    path = write_search("shown", budget=5, parallel=2)
    before = cli(["plan", str(path), "--endpoint", jma.url, "--detailed-exitcode"])
    assert before.exit_code == 2 and "0 trials finished (0 failed), 0 running to adopt, 5 of 5 to ask for" in before.stdout
    assert cli(["apply", str(path), "--endpoint", jma.url]).exit_code == 0
    after = cli(["plan", str(path), "--endpoint", jma.url, "-o", "json", "--detailed-exitcode"])
    document = json.loads(after.stdout)
    assert after.exit_code == 0 and document["left"] == 0 and document["finished"] == 5
    status = cli(["status", str(path), "--endpoint", jma.url])
    best = document["summary"]["best_trial"]
    assert f"best trial {best} (shown-{best})" in status.stdout
    assert cli(["report", str(path), "--endpoint", jma.url, "--set", "report.formats=[json,csv,md,html]"]).exit_code == 0
    markdown = read_report(path, "shown", "md")
    assert "Optimisation history, in the order results arrived" in markdown
    assert f"best trial {best} (shown-{best})" in read_report(path, "shown", "html")
    table = list(csv.DictReader(io.StringIO(read_report(path, "shown", "csv"))))
    assert table[0]["index"] == str(best) and table[0]["name"] == f"shown-{best}"
    history = read_report(path, "shown")["search"]["history"]
    assert sorted((int(row["arrived"]), int(row["index"])) for row in table) == [
        (position, entry["trial"]) for position, entry in enumerate(history, 1)
    ]


def test_jobs_that_are_not_this_studys_trials_are_refused_not_told(cli, jma, platform, write_search,
                                                                   write_manifest):
    grid = write_manifest("mixed", grid="a: [1, 2]")
    assert cli(["apply", str(grid), "--endpoint", jma.url]).exit_code == 0
    searched = cli(["apply", str(write_search("mixed", budget=2)), "--endpoint", jma.url])
    assert searched.exit_code == 2 and "is not a trial of a search (a grid made it)" in searched.stderr
    assert len(platform.owned_jobs("mixed")) == 2

    path = write_search("changed", budget=2, space="a: [1, 2, 3]", parameters="{b: 1}")
    assert cli(["apply", str(path), "--endpoint", jma.url]).exit_code == 0
    path.write_text(search_text("changed", budget=4, space="a: [1, 2, 3]", parameters="{b: 2}"))
    other = cli(["apply", str(path), "--endpoint", jma.url])
    assert other.exit_code == 2 and "was made from another manifest" in other.stderr
    path.write_text(search_text("changed", budget=4, space="a: [7, 8]", parameters="{b: 1}"))
    moved = cli(["apply", str(path), "--endpoint", jma.url])
    assert moved.exit_code == 2 and "lies outside search.space (the space changed)" in moved.stderr
    assert len(platform.owned_jobs("changed")) == 2
    assert cli(["apply", str(path), "--endpoint", jma.url, "--run", "2"]).exit_code == 0


def test_grid_options_are_refused_for_a_search(cli, jma, write_search):
    path = write_search("refused", budget=2)
    result = cli(["apply", str(path), "--endpoint", jma.url, "--rerun-failed"])
    assert result.exit_code == 2 and "--rerun-failed works on the points of a grid" in result.stderr


def test_validate_and_expand_say_what_a_search_is_without_a_server(cli, write_search):
    path = write_search("offline", budget=3)
    valid = cli(["validate", str(path)])
    assert valid.exit_code == 0 and "valid, a tpe search of 3 trials of add@1.0.0 in batch offline" in valid.stdout
    listed = cli(["expand", str(path)])
    assert listed.exit_code == 0 and listed.stdout == ""
    assert "offline is a tpe search of 3 trials: they are proposed as results arrive" in listed.stderr


def apply_without(module: str, path: Path, folder: Path) -> subprocess.CompletedProcess:
    """``batchrun apply`` in a Python where ``module`` cannot be imported, as if never installed."""
    code = (f"import sys; sys.modules[{module!r}] = None; sys.argv = ['batchrun', 'apply', sys.argv[1]]; "
            "from batchrun.__main__ import main; main()")
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120,
                          cwd=folder, env=os.environ)


@pytest.mark.parametrize(("strategy", "missing", "extra"), [("tpe", "optuna", "search"), ("gp", "torch", "gp")])
def test_a_search_without_its_extra_names_the_extra(strategy, missing, extra, write_search, tmp_path):
    path = write_search(f"no-{missing}", strategy=strategy, budget=2)
    done = apply_without(missing, path, tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"pip install 'batchrun[{extra}]'" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / ".batchrun").exists()  # refused before any server was started


@pytest.mark.parametrize("parallel", [1, 3])
def test_sigkill_at_several_moments_then_resume_runs_every_trial_exactly_once(parallel, write_search, tmp_path):
    budget = 12
    path = write_search("killed", function="sleep_ms", objective=".", budget=budget, parallel=parallel,
                        space="ms: {range: [30, 400]}")
    with ServeProcess(tmp_path / "serve.sqlite3") as server, Platform(server.url, None) as platform:
        for at_least in (1, 4, 8):
            with running("apply", str(path), "--endpoint", server.url, folder=tmp_path) as apply:
                wait_until(lambda n=at_least: len(platform.owned_jobs("killed")) >= n, timeout=120,
                           what=f"{at_least} trials to exist")
                apply.kill()
                apply.wait(timeout=30)
            assert len(platform.owned_jobs("killed")) < budget, "the kill must land mid-search"
        with running("apply", str(path), "--endpoint", server.url, folder=tmp_path) as again:
            assert again.wait(timeout=300) == 0, (tmp_path / "err.txt").read_text()
        jobs = platform.owned_jobs("killed")
        numbers = Counter(trial_number(job) for job in jobs)
    assert sorted(numbers) == list(range(budget)) and set(numbers.values()) == {1}
    assert len({job.key for job in jobs}) == budget and all(job.state == "Completed" for job in jobs)
    assert len(read_report(path, "killed")["search"]["history"]) == budget
