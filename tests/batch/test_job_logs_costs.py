"""What the runner reads from the jobs' Logs and Metrics: the cost of each point in the report,
the tail of a failed point's log in status and the report, and ``batchrun logs``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from batchrun.localjma import LocalJMA
from tests.batch.conftest import invoke, manifest_text
from tests.support import STEPS, STEPS_DIR, read_report

FAILURE = "RuntimeError: talked, then failed"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalJMA]:
    database = tmp_path_factory.mktemp("jma") / "jma.sqlite3"
    with LocalJMA(database, steps=[str(STEPS), str(STEPS_DIR / "monitoring_steps.py")], workers=2) as jma:
        yield jma


@pytest.fixture(scope="module")
def talked(server: LocalJMA, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A batch of two points of the talk step, one failing, applied once: (manifest, apply result)."""
    path = tmp_path_factory.mktemp("talk") / "talk.yaml"
    path.write_text(manifest_text(
        "talk", function="talk", version=None, grid="fail: [false, true]", parameters="{}",
        extra="report: {dir: out, formats: [json, csv, md, html], costs: true}\n",
    ), encoding="utf-8")
    return path, invoke(["apply", str(path), "--endpoint", server.url])


def test_the_report_shows_what_each_point_cost_and_the_end_of_a_failed_log(talked: tuple[Path, Any]) -> None:
    path, applied = talked
    assert applied.exit_code == 1, applied.stderr
    document = read_report(path, "talk", folder="out")
    done, failed = document["jobs"]
    assert (done["state"], failed["state"]) == ("Completed", "Error")
    for job in (done, failed):
        assert job["cpu_seconds"] >= 0 and job["peak_memory_bytes"] > 1024 * 1024
        assert job["logs_url"] == job["url"] + "/Logs"
    assert done["log_tail"] == []
    messages = [line["message"] for line in failed["log_tail"]]
    assert messages[-1] == FAILURE and "Traceback (most recent call last):" in messages
    assert failed["log_tail"][-1]["level"] == "ERROR"
    rows = list(csv.DictReader(io.StringIO((path.parent / "out" / "talk.csv").read_text(encoding="utf-8"))))
    assert all(float(row["cpu_seconds"]) >= 0 and int(row["peak_memory_bytes"]) > 0 for row in rows)
    markdown = (path.parent / "out" / "talk.md").read_text(encoding="utf-8")
    assert "| cpu_seconds | peak_memory_bytes |" in markdown and " MiB |" in markdown
    assert f"  ERROR {FAILURE}" in markdown
    page = (path.parent / "out" / "talk.html").read_text(encoding="utf-8")
    assert '"log_tail":["' in page and f'ERROR {FAILURE}"]' in page and '"cpu_seconds":' in page


def test_report_rebuilds_the_same_costs(cli, server: LocalJMA, talked: tuple[Path, Any]) -> None:
    path, _ = talked
    applied = read_report(path, "talk", folder="out")
    rebuilt = cli(["report", str(path), "--endpoint", server.url, "-o", "json"])
    assert rebuilt.exit_code == 1, rebuilt.stderr
    pairs = [(job["cpu_seconds"], job["peak_memory_bytes"]) for job in json.loads(rebuilt.stdout)["jobs"]]
    assert pairs == [(job["cpu_seconds"], job["peak_memory_bytes"]) for job in applied["jobs"]]


def test_status_shows_the_last_lines_of_a_failed_points_log(cli, server: LocalJMA, talked: tuple[Path, Any]) -> None:
    path, _ = talked
    table = cli(["status", str(path), "--endpoint", server.url])
    assert table.exit_code == 1
    assert f"│ ERROR {FAILURE}" in table.stdout
    document = json.loads(cli(["status", str(path), "--endpoint", server.url, "-o", "json"]).stdout)
    (failed,) = document["failed"]
    assert failed["log_tail"][-1] == f"ERROR {FAILURE}" and len(failed["log_tail"]) == 5


def test_logs_prints_each_points_log_with_levels(cli, server: LocalJMA, talked: tuple[Path, Any]) -> None:
    path, _ = talked
    result = cli(["logs", str(path), "--endpoint", server.url])
    assert result.exit_code == 0, result.stderr
    assert "── talk-0 (Completed, attempt 1)" in result.stdout and "── talk-1 (Error, attempt 1)" in result.stdout
    for text in ("INFO first to stdout", "ERROR then to stderr", "WARN a warning record", f"ERROR {FAILURE}"):
        assert text in result.stdout
    assert result.stdout.index("INFO first to stdout") < result.stdout.index("WARN a warning record")


def test_logs_narrowed_to_the_failed_points_tail_as_json(cli, server: LocalJMA, talked: tuple[Path, Any]) -> None:
    path, _ = talked
    result = cli(["logs", str(path), "--endpoint", server.url, "--only", "state=failed", "--tail", "2", "-o", "json"])
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["name"], line["level"]) for line in lines] == [("talk-1", "ERROR")] * 2
    assert lines[-1]["message"] == FAILURE and lines[-1]["timestamp"].endswith("Z")


def test_logs_of_points_without_a_job_and_of_no_points(cli, server: LocalJMA, tmp_path: Path) -> None:
    path = tmp_path / "unapplied.yaml"
    path.write_text(manifest_text("unapplied", function="talk", version=None, grid="fail: [false]",
                                  parameters="{}"), encoding="utf-8")
    result = cli(["logs", str(path), "--endpoint", server.url])
    assert result.exit_code == 0, result.stderr
    assert "── unapplied-0 (NotCreated)" in result.stdout and "no log: no worker has taken its job" in result.stdout
    none = cli(["logs", str(path), "--endpoint", server.url, "--only", "fail=true"])
    assert none.exit_code == 0 and "no points match" in none.stderr


def test_costs_are_read_only_when_asked_for(cli, server: LocalJMA, talked: tuple[Path, Any]) -> None:
    path, _ = talked
    rebuilt = cli(["report", str(path), "--endpoint", server.url, "-o", "json", "--set", "report.costs=false"])
    assert rebuilt.exit_code == 1, rebuilt.stderr
    done, failed = json.loads(rebuilt.stdout)["jobs"]
    assert (done["cpu_seconds"], done["peak_memory_bytes"], failed["cpu_seconds"]) == (None, None, None)
    path.write_text(path.read_text(encoding="utf-8").replace(", costs: true", ""), encoding="utf-8")  # the default
    rebuilt = cli(["report", str(path), "--endpoint", server.url, "-o", "json"])
    assert rebuilt.exit_code == 1, rebuilt.stderr
    done, failed = json.loads(rebuilt.stdout)["jobs"]
    assert (done["cpu_seconds"], done["peak_memory_bytes"], failed["cpu_seconds"]) == (None, None, None)
    assert failed["log_tail"][-1]["message"] == FAILURE
