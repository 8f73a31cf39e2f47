"""``batchrun apply`` end to end: the real CLI entry point, a real local JMA, real workers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from batchrun.client import Platform, RemoteJob
from batchrun.localjma import LocalJMA
from tests.support import STEPS, STEPS_DIR, read_report


@pytest.fixture(scope="module")
def jma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalJMA]:
    database = tmp_path_factory.mktemp("jma") / "jma.sqlite3"
    steps = [str(STEPS), str(STEPS_DIR / "apply_steps.py")]
    with LocalJMA(database, steps=steps, workers=2) as server:
        yield server


def apply(cli, path: Path, jma: LocalJMA, *extra: str):
    return cli(["apply", str(path), "--endpoint", jma.url, *extra])


def jobs_of(platform: Platform, batch: str, run: str | None = "1") -> list[RemoteJob]:
    return platform.owned_jobs(batch, run=run)


def test_apply_creates_every_point_then_finds_nothing_to_do(cli, jma, platform, write_manifest):
    path = write_manifest("first", grid="a: [1, 2, 3]")
    result = apply(cli, path, jma)
    assert result.exit_code == 0, result.stderr
    assert "3 create" in result.stderr
    assert "first-0" in result.stdout and "result.sum" in result.stdout
    document = read_report(path, "first")
    assert document["format_version"] == 1
    assert [row["state"] for row in document["jobs"]] == ["Completed"] * 3
    assert [row["result"]["sum"] for row in document["jobs"]] == [11, 12, 13]
    assert {p.suffix for p in (path.parent / "reports").iterdir()} == {".json", ".csv", ".md"}
    before = {job.url for job in jobs_of(platform, "first")}
    assert len(before) == 3

    again = apply(cli, path, jma)
    assert again.exit_code == 0, again.stderr
    assert "3 unchanged" in again.stderr
    assert {job.url for job in jobs_of(platform, "first")} == before


def test_quiet_apply_prints_the_selected_points_job_ids_and_no_progress(cli, jma, platform, write_manifest):
    path = write_manifest("quiet", grid="a: [1, 2, 3]")

    result = apply(cli, path, jma, "-q", "--only", "a=2")

    assert result.exit_code == 0, result.stderr
    (job,) = jobs_of(platform, "quiet")
    assert result.stdout == job.url.rsplit("/", 1)[-1] + "\n"
    assert "done |" not in result.stderr and "1 create" in result.stderr


def test_a_failing_point_exits_1_with_its_error_in_the_report(cli, jma, write_manifest):
    path = write_manifest("failing", function="fail", grid="message: [boom, bang]", parameters="{}")
    result = apply(cli, path, jma)
    assert result.exit_code == 1
    assert "2 of 2 points did not complete" in result.stderr
    rows = read_report(path, "failing")["jobs"]
    assert [row["state"] for row in rows] == ["Error", "Error"]
    assert "ValueError: boom" in rows[0]["error"] and "ValueError: bang" in rows[1]["error"]
    markdown = read_report(path, "failing", "md")
    assert "ValueError: boom" in markdown


def test_failed_points_are_retried_as_new_attempts(cli, jma, platform, write_manifest, tmp_path):
    marker = tmp_path / "flaky-marker"
    path = write_manifest(
        "retrying",
        function="flaky",
        grid="value: [7]",
        parameters=f"{{marker: '{marker}'}}",
        extra="execution: {retries: 1}\n",
    )
    result = apply(cli, path, jma)
    assert result.exit_code == 0, result.stderr
    [row] = read_report(path, "retrying")["jobs"]
    assert row["state"] == "Completed" and row["result"] == 7
    assert row["attempt"] == 2 and row["attempts"] == 2
    states = sorted((job.attempt, job.state) for job in jobs_of(platform, "retrying"))
    assert states == [(1, "Error"), (2, "Completed")]


def test_rerun_failed_replaces_failed_points(cli, jma, platform, write_manifest, tmp_path):
    marker = tmp_path / "flaky-once"
    path = write_manifest(
        "rerun", function="flaky", grid="value: [1, 2]", parameters=f"{{marker: '{marker}'}}"
    )
    first = apply(cli, path, jma)  # the first job to run fails, the other completes
    assert first.exit_code == 1
    assert sorted(row["state"] for row in read_report(path, "rerun")["jobs"]) == ["Completed", "Error"]
    plain = apply(cli, path, jma)
    assert plain.exit_code == 1 and "1 failed" in plain.stderr  # reported, not rerun
    rerun = apply(cli, path, jma, "--rerun-failed", "--only", "state=failed")
    assert rerun.exit_code == 0, rerun.stderr
    assert "1 rerun (1 of 2 selected by --only)" in rerun.stderr
    assert [row["state"] for row in read_report(path, "rerun")["jobs"]] == ["Completed"] * 2
    assert len(jobs_of(platform, "rerun")) == 3


def test_prune_asks_first_and_then_converges(cli, jma, platform, write_manifest):
    path = write_manifest("pruning", grid="a: [1, 2, 3]")
    assert apply(cli, path, jma).exit_code == 0
    path = write_manifest("pruning", grid="a: [1, 2, 4]")
    refused = apply(cli, path, jma, "--prune")  # not a terminal and no --yes
    assert refused.exit_code == 1
    assert "Nothing was sent" in refused.stderr and "delete 1 orphaned jobs" in refused.stderr
    assert len(jobs_of(platform, "pruning")) == 3

    result = apply(cli, path, jma, "--prune", "--yes")
    assert result.exit_code == 0, result.stderr
    jobs = jobs_of(platform, "pruning")
    assert len(jobs) == 3
    assert sorted(json.loads(job.result)["sum"] for job in jobs) == [11, 12, 14]
    plan = cli(["plan", str(path), "--endpoint", jma.url, "--prune", "--detailed-exitcode"])
    assert plan.exit_code == 0, plan.stdout


def test_orphans_are_kept_without_prune(cli, jma, platform, write_manifest):
    path = write_manifest("keeping", grid="a: [1, 2]")
    assert apply(cli, path, jma).exit_code == 0
    path = write_manifest("keeping", grid="a: [1]")
    result = apply(cli, path, jma)
    assert result.exit_code == 0
    assert "1 orphaned jobs kept (--prune deletes them)" in result.stderr
    assert len(jobs_of(platform, "keeping")) == 2


def test_rerunning_points_with_results_asks_first(cli, jma, platform, write_manifest):
    path = write_manifest("revised", grid="a: [1, 2]")
    assert apply(cli, path, jma).exit_code == 0
    refused = apply(cli, path, jma, "--set", "revision=2")
    assert refused.exit_code == 1
    assert "rerun 2 points that already have results" in refused.stderr
    assert "Nothing was sent" in refused.stderr
    assert len(jobs_of(platform, "revised")) == 2
    result = apply(cli, path, jma, "--set", "revision=2", "--yes")
    assert result.exit_code == 0, result.stderr
    assert sorted(job.attempt for job in jobs_of(platform, "revised")) == [1, 1, 2, 2]


def test_a_new_run_label_reproduces_the_batch_as_new_jobs(cli, jma, platform, write_manifest):
    path = write_manifest("labels", grid="a: [1, 2]")
    assert apply(cli, path, jma).exit_code == 0
    second = apply(cli, path, jma, "--run", "2")
    assert second.exit_code == 0, second.stderr
    assert "run 2" in second.stderr and "2 create" in second.stderr
    assert len(jobs_of(platform, "labels", run="2")) == 2
    assert len(jobs_of(platform, "labels", run=None)) == 4
    assert read_report(path, "labels")["run"] == "2"


def test_only_selects_points(cli, jma, platform, write_manifest):
    path = write_manifest("selecting", grid="a: [1, 2, 3]")
    result = apply(cli, path, jma, "--only", "a=2")
    assert result.exit_code == 0, result.stderr
    assert "1 of 3 selected by --only" in result.stderr
    [job] = jobs_of(platform, "selecting")
    assert json.loads(job.result)["sum"] == 12
    states = [row["state"] for row in read_report(path, "selecting")["jobs"]]
    assert states == ["NotCreated", "Completed", "NotCreated"]
    rest = apply(cli, path, jma, "--only", "state=create")
    assert rest.exit_code == 0, rest.stderr
    assert len(jobs_of(platform, "selecting")) == 3


def test_bad_selectors_are_usage_errors(cli, jma, platform, write_manifest):
    path = write_manifest("badselector", grid="a: [1, 2]")
    for option, message in (("lr", "FIELD=VALUE"), ("lr=0.1", "no parameter named 'lr'")):
        result = apply(cli, path, jma, "--only", option)
        assert result.exit_code == 2 and message in result.stderr
    assert jobs_of(platform, "badselector") == []


def test_json_output_is_the_report(cli, jma, write_manifest):
    path = write_manifest("as-json", grid="a: [5]")
    result = apply(cli, path, jma, "-o", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["format_version"] == 1 and document["jobs"][0]["result"]["product"] == 50


def test_cleanup_after_success_deletes_the_jobs_once_reported(cli, jma, platform, write_manifest):
    path = write_manifest("cleaned", grid="a: [1, 2]", extra="cleanup: {after: success}\n")
    result = apply(cli, path, jma)
    assert result.exit_code == 0, result.stderr
    assert "cleanup: deleted 2 finished jobs" in result.stderr
    assert [row["result"]["sum"] for row in read_report(path, "cleaned")["jobs"]] == [11, 12]
    assert jobs_of(platform, "cleaned") == []


def test_cleanup_after_success_keeps_the_jobs_of_a_failed_batch(cli, jma, platform, write_manifest):
    path = write_manifest(
        "kept-failed", function="fail", grid="message: [x]", parameters="{}",
        extra="cleanup: {after: success}\n",
    )
    assert apply(cli, path, jma).exit_code == 1
    assert len(jobs_of(platform, "kept-failed")) == 1
