"""The platform's own ``pinexq`` CLI (pinexq-cli 0.7.0) against ``batchrun serve`` over HTTPS.

The CLI is the platform team's client, written against the real JMA: what it can do with
the local JMA, the local JMA does as the platform does. It always speaks ``https://``, so
the server runs with a throwaway certificate that the CLI trusts through
``SSL_CERT_FILE``, as the README tells users. See :mod:`tests.pinexq_cli` for where the
CLI comes from (and when these tests are skipped).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from batchrun.localjma.http.parameter_types import PARAMETER_MODELS
from batchrun.localjma.http.siren import JOB_ACTION_PARAMETERS
from tests.pinexq_cli import Unavailable, install_cli
from tests.serving import ServeProcess
from tests.tls import make_certificate

pytestmark = pytest.mark.slow

KEY = "pinexq-cli-test-key"
CLI_TIMEOUT = 120.0
NO_SCHEMA = "No parameter schema"


@pytest.fixture(scope="module")
def pinexq() -> Path:
    try:
        return install_cli()
    except Unavailable as why:
        pytest.skip(f"pinexq CLI tests skipped: {why}")


@dataclass
class Cli:
    """``pinexq ARGS`` against one server, as a user with that endpoint and key in the environment runs it."""

    executable: Path
    env: dict[str, str]
    cwd: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.executable), *args], env=self.env, cwd=self.cwd, capture_output=True,
                              text=True, timeout=CLI_TIMEOUT)

    def json(self, *args: str) -> Any:
        """The command's ``-o json`` output; it must succeed without warnings of untyped parameters."""
        done = self.run(*args, "-o", "json")
        assert done.returncode == 0, f"pinexq {' '.join(args)}: {done.stderr}"
        assert NO_SCHEMA not in done.stderr
        return json.loads(done.stdout)


@pytest.fixture(scope="module")
def cli(pinexq: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    folder = tmp_path_factory.mktemp("pinexq-cli")
    certificate = make_certificate(folder / "tls")
    with ServeProcess(folder / "served.sqlite3", workers=1, api_key=KEY, args=certificate.serve_args()) as server:
        env = {**os.environ, "PINEXQ_ENDPOINT": server.url, "PINEXQ_API_KEY": KEY,
               "SSL_CERT_FILE": str(certificate.authority), "NO_COLOR": "1"}
        yield Cli(pinexq, env, folder)


def test_processing_steps_are_listed_and_shown(cli: Cli) -> None:
    listed = cli.json("ps", "list")
    shown = cli.json("ps", "show", "add")

    assert {"add", "echo", "sleep_ms"} <= {step["function_name"] for step in listed}
    assert shown["function_name"] == "add" and shown["url"].startswith("https://127.0.0.1:")


def test_a_job_created_without_start_waits_until_started(cli: Cli) -> None:
    created = cli.json("job", "create", "--name", "cli: later", "--processing-step", "add",
                       "--param", "a=2", "--param", "b=3")
    started = cli.json("job", "start", created["id"], "--wait", "--timeout", "60")
    shown = cli.json("job", "show", created["id"])

    assert created["state"] == "ReadyForProcessing"
    assert [job["state"] for job in started] == ["Completed"]
    assert json.loads(shown["result"]) == {"sum": 5.0, "product": 6.0}


def test_a_job_created_with_start_runs(cli: Cli) -> None:
    created = cli.json("job", "create", "--name", "cli: now", "--processing-step", "echo",
                       "--param", "text=hi", "--start", "--tag", "cli-run")
    listed = cli.json("job", "list", "--tag", "cli-run")

    assert created["state"] in ("Pending", "Processing", "Completed")
    assert [job["id"] for job in listed] == [created["id"]]


def test_tags_and_actions_with_their_parameter_schemas(cli: Cli) -> None:
    job = cli.json("job", "create", "--name", "cli: tagged", "--processing-step", "add",
                   "--param", "a=1", "--param", "b=1")
    tagged = cli.json("job", "tag", job["id"], "--add", "stage=test", "--add", "cli", "--yes")
    root_actions = cli.json("job", "actions", "--root")
    job_actions = cli.json("job", "actions", job["id"])

    assert [row["tags"] for row in tagged] == [["stage=test", "cli"]]
    assert {action["name"] for action in root_actions} >= {"CreateJob", "RapidSetupJob", "CreateJobQuery"}
    for action in root_actions:
        assert action["schema"]["type"] == "object", action["name"]
    for action in job_actions:
        parameters = JOB_ACTION_PARAMETERS[action["name"]]
        if parameters is None or parameters not in PARAMETER_MODELS:  # none, or the step's own
            assert action["schema_url"] is None, action["name"]
        else:
            assert action["schema_url"].endswith(f"/api/ActionParameterTypes/{parameters}")
            assert action["schema"]["title"] == parameters
    edit_tags = next(action for action in job_actions if action["name"] == "EditTags")
    assert edit_tags["schema"]["required"] == ["Tags"]


def test_workdata_is_uploaded_listed_and_downloaded(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "table.csv"
    source.write_bytes(b"a,b\n1,2\n")
    uploaded = cli.json("wd", "upload", str(source), "--tag", "cli-upload")
    listed = cli.json("wd", "list", "--tag", "cli-upload")
    target = tmp_path / "back.csv"
    downloaded = cli.run("wd", "download", uploaded["id"], "-o", str(target))

    assert uploaded["name"] == "table.csv" and uploaded["media_type"] == "text/csv"
    assert [data["id"] for data in listed] == [uploaded["id"]]
    assert downloaded.returncode == 0 and target.read_bytes() == source.read_bytes()


def test_folders_are_created_listed_and_jobs_moved_into_them(cli: Cli) -> None:
    top = cli.json("folder", "create", "cli-sweeps")
    inner = cli.json("folder", "create", "b1", "--parent", "/cli-sweeps/")
    listed = cli.json("folder", "list")
    job = cli.json("job", "create", "--name", "cli: to file", "--processing-step", "add",
                   "--param", "a=1", "--param", "b=1")
    moved = cli.json("job", "move", job["id"], "--to", "/cli-sweeps/b1/", "--yes")
    created_in = cli.json("job", "create", "--name", "cli: filed", "--folder", "/cli-sweeps/")
    in_inner = cli.json("job", "list", "--folder", "/cli-sweeps/b1/")
    shown = cli.json("folder", "show", "/cli-sweeps/")

    assert top["path"] == "/cli-sweeps/" and inner["path"] == "/cli-sweeps/b1/"
    assert {"/cli-sweeps/", "/cli-sweeps/b1/"} <= {folder["path"] for folder in listed}
    assert [(row["folder_path"], row["parent_folder_id"]) for row in moved] == [("/cli-sweeps/b1/", inner["id"])]
    assert created_in["folder_path"] == "/cli-sweeps/"
    assert [row["id"] for row in in_inner] == [job["id"]]
    assert [child["path"] for child in shown["children"]] == ["/cli-sweeps/b1/"]


def test_a_job_is_deleted(cli: Cli) -> None:
    job = cli.json("job", "create", "--name", "cli: doomed")
    deleted = cli.run("job", "delete", job["id"], "--yes")
    shown = cli.run("job", "show", job["id"])

    assert deleted.returncode == 0
    assert "not found" in shown.stderr + shown.stdout


def test_a_failed_jobs_logs_and_metrics(cli: Cli) -> None:
    created = cli.json("job", "create", "--name", "cli: fails", "--processing-step", "fail", "--param", "message=oops")
    cli.run("job", "start", created["id"], "--wait", "--timeout", "60")
    logs = cli.run("job", "logs", created["id"], "-o", "json")
    metrics = cli.run("job", "metrics", created["id"], "-o", "json")

    assert logs.returncode == 0, logs.stderr
    assert "oops" in logs.stdout and "ERROR" in logs.stdout
    assert metrics.returncode == 0, metrics.stderr
    assert "memoryUsage" in metrics.stdout or "memory_usage" in metrics.stdout
