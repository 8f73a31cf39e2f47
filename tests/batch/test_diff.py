"""``batchrun diff`` on real applies: reruns of a sweep on the embedded local JMA, made to
differ through the step's environment (``tests/steps/diff_steps.py``), a changed grid,
``--only`` and a new revision, then compared run against run and revision against revision."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.support import STEPS_DIR, run_batchrun

SHIFTED = {"DIFF_SHIFT": "0.001", "DIFF_FAIL_AT": "3"}


def sweep(folder: Path) -> Path:
    path = folder / "sweep.yaml"
    path.write_text(
        "version: 1\n"
        "batch: reruns\n"
        'step: {function: score, version: "1.0.0"}\n'
        f"local: {{steps: [{STEPS_DIR / 'diff_steps.py'}], workers: 2}}\n"
        "grid: {x: [1, 2, 3]}\n"
        'name: "x{{ x }}"\n',
        encoding="utf-8",
    )
    return path


def apply(path: Path, *args: str, env: dict[str, str] | None = None, code: int = 0) -> None:
    done = run_batchrun("apply", str(path), "--yes", *args, env=env, cwd=path.parent)
    assert done.returncode == code, done.stderr


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run 1 and its exact rerun 2; run 3 shifted (x=3 fails) on the grid [2, 3, 4]; run 4
    only x=1; run 5 at the manifest's revision, then rerun at revision r2, shifted."""
    path = sweep(tmp_path_factory.mktemp("diff"))
    apply(path, "--run", "1")
    apply(path, "--run", "2")
    apply(path, "--run", "3", "--set", "grid.x=[2, 3, 4]", env=SHIFTED, code=1)
    apply(path, "--run", "4", "--only", "x=1")
    apply(path, "--run", "5")
    apply(path, "--run", "5", "--set", "revision=r2", env={"DIFF_SHIFT": "0.5"})
    return path


def diff(path: Path, *args: str) -> tuple[int, str, str]:
    done = run_batchrun("diff", str(path), *args, cwd=path.parent)
    return done.returncode, done.stdout, done.stderr


def diff_json(path: Path, *args: str) -> tuple[int, dict]:
    code, out, err = diff(path, *args, "-o", "json")
    assert out, err
    return code, json.loads(out)


def verdicts(document: dict) -> dict[str, str]:
    return {point["name"]: point["verdict"] for point in document["points"]}


def test_an_exact_rerun_is_equal_and_exits_0(runs):
    code, out, err = diff(runs, "--run", "1", "--run", "2")
    assert code == 0, err
    assert "run 1 against run 2: 3 points: 3 equal" in out
    code, document = diff_json(runs, "--run", "1", "--run", "2")
    assert code == 0 and document["equal"] is True and document["summary"] == {"equal": 3}
    assert verdicts(document) == {"x1": "equal", "x2": "equal", "x3": "equal"}


def test_differences_failures_and_points_of_one_side(runs):
    code, document = diff_json(runs, "--run", "1", "--run", "3")
    assert code == 1
    assert verdicts(document) == {"x1": "only-in-a", "x2": "differs", "x3": "failed", "x4": "only-in-b"}
    assert document["summary"] == {"differs": 1, "only-in-a": 1, "only-in-b": 1, "failed": 1}
    x2 = next(point for point in document["points"] if point["name"] == "x2")
    assert x2["fields"] == [{"field": "result.loss", "a": 4.0, "b": 4.001}]  # the other fields are equal
    assert x2["a"]["result"]["loss"] == 4.0 and x2["b"]["state"] == "Completed"
    x3 = next(point for point in document["points"] if point["name"] == "x3")
    assert x3["b"]["state"] == "Error" and "told to fail at x=3" in x3["reason"]
    x4 = next(point for point in document["points"] if point["name"] == "x4")
    assert x4["a"] is None and x4["b"]["result"]["loss"] == 8.001  # a point the manifest no longer names


def test_only_restricts_a_run_to_some_points(runs):
    code, document = diff_json(runs, "--run", "1", "--run", "4")
    assert code == 1
    assert verdicts(document) == {"x1": "equal", "x2": "only-in-a", "x3": "only-in-a"}
    code, document = diff_json(runs, "--run", "4", "--run", "1")
    assert verdicts(document) == {"x1": "equal", "x2": "only-in-b", "x3": "only-in-b"}


def test_a_tolerance_absorbs_small_differences(runs):
    code, document = diff_json(runs, "--run", "1", "--run", "3", "--atol", "0.01")
    assert verdicts(document)["x2"] == "equal" and document["atol"] == 0.01
    assert code == 1  # the other points still differ in kind
    assert verdicts(diff_json(runs, "--run", "1", "--run", "3", "--rtol", "1e-3")[1])["x2"] == "equal"
    assert verdicts(diff_json(runs, "--run", "1", "--run", "3", "--rtol", "1e-5")[1])["x2"] == "differs"


def test_table_output_names_the_field_and_both_values(runs):
    code, out, err = diff(runs, "--run", "1", "--run", "3")
    assert code == 1
    x2 = next(line for line in out.splitlines() if line.startswith("x2"))
    assert x2.split() == ["x2", "differs", "result.loss", "4.0", "4.001"]
    x1 = next(line for line in out.splitlines() if line.startswith("x1"))
    assert "only-in-a" in x1 and "(absent)" in x1
    assert "4 points: 1 differs, 1 only-in-a, 1 only-in-b, 1 failed" in out
    assert "not equal: 4 of 4 points" in err


def test_csv_output_has_a_row_per_differing_field(runs):
    code, out, err = diff(runs, "--run", "1", "--run", "3", "-o", "csv")
    assert code == 1, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(row["name"], row["verdict"], row["field"]) for row in rows] == [
        ("x1", "only-in-a", ""), ("x2", "differs", "result.loss"), ("x3", "failed", ""), ("x4", "only-in-b", "")]
    assert (rows[1]["a"], rows[1]["b"]) == ("4.0", "4.001")
    assert rows[0]["b"] == "(absent)" and json.loads(rows[0]["a"])["loss"] == 2.0
    assert rows[2]["b"] == "Error" and len(rows[1]["key"]) == 16


def test_revisions_of_one_run(runs):
    code, document = diff_json(runs, "--run", "5", "--revision", "null", "--revision", "r2")
    assert code == 1
    assert document["a"] == {"run": "5", "revision": None} and document["b"] == {"run": "5", "revision": "r2"}
    assert verdicts(document) == {"x1": "differs", "x2": "differs", "x3": "differs"}
    assert {point["fields"][0]["b"] - point["fields"][0]["a"] for point in document["points"]} == {0.5}
    code, document = diff_json(runs, "--run", "5", "--revision", "r2", "--revision", "r2")
    assert code == 0 and verdicts(document) == {"x1": "equal", "x2": "equal", "x3": "equal"}


def test_a_revision_the_platform_no_longer_has_is_an_error(runs):
    code, out, err = diff(runs, "--run", "5", "--revision", "r1", "--revision", "r2")
    assert code == 1 and out == ""
    assert "no job of run '5' of batch 'reruns' has revision 'r1'" in err and "Traceback" not in err


def test_a_run_without_jobs_is_an_error_naming_it(runs):
    code, out, err = diff(runs, "--run", "1", "--run", "9")
    assert code == 1 and out == ""
    assert "run '9' of batch 'reruns' has no jobs on the platform" in err and "Traceback" not in err


@pytest.mark.parametrize("args", [
    [], ["--run", "1"], ["--run", "1", "--run", "2", "--run", "3"], ["--revision", "r1"],
    ["--run", "1", "--run", "2", "--revision", "a", "--revision", "b"], ["--revision", "[1]", "--revision", "r2"],
    ["--run", "1", "--run", "2", "--rtol", "-1"], ["--run", "1", "--run", "2", "-o", "html"],
])
def test_usage_errors_exit_2_before_anything_runs(tmp_path, args):
    path = sweep(tmp_path)
    code, _, err = diff(path, *args)
    assert code == 2, err
    assert "Traceback" not in err and not (tmp_path / ".batchrun").exists()


def test_a_long_table_is_written_as_plain_columns(capsys):
    from batchrun.cli.commands.diff import echo_table
    from batchrun.cli.results import RICH_ROWS
    from batchrun.diff import compare
    from batchrun.report import ReportJob

    def rows(shift: float) -> list[ReportJob]:
        return [ReportJob(index=i, name=f"p{i}", key=f"k{i}", parameters={}, state="Completed",
                          result={"loss": i + shift}) for i in range(RICH_ROWS + 1)]

    echo_table(compare(rows(0), rows(0.5)))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == RICH_ROWS + 2 and lines[0].split() == ["name", "verdict", "field", "/", "reason", "A", "B"]
    assert lines[-1].split() == [f"p{RICH_ROWS}", "differs", "result.loss", str(RICH_ROWS), f"{RICH_ROWS}.5"]
