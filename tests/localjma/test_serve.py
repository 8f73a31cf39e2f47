"""``batchrun serve`` as users run it: a real process, a real client, Ctrl-C to stop."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx
from click.testing import CliRunner
from pinexq.client.job_management import Job, ProcessingStep
from pinexq.client.job_management.enterjma import create_pinexq_client

from batchrun.cli.main import cli
from batchrun.localjma.domain.recovery import REQUEUED
from tests.serving import ServeProcess

KEY = "serve-test-key"


def test_help_documents_recovery() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])

    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert REQUEUED in text and "Pending" in text and "BATCHRUN_SERVE_API_KEY" in text
    assert "--job-timeout" in text


def test_serve_prints_the_url_runs_jobs_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    database = tmp_path / "served.sqlite3"
    with ServeProcess(database, workers=1, api_key=KEY) as server:
        url = server.url
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/api/EntryPoint").status_code == 401
        with create_pinexq_client(url, api_key=KEY, use_client_cache=False) as client:
            job = Job(client).create_and_configure_rapidly(
                name="served", processing_step_instance=ProcessingStep.from_name(client, "echo"),
                parameters=json.dumps({"text": "ok"}),
            )
            assert job.wait_for_completion(timeout_s=30).get_result() == "ok"
    out, err = server.output(), server.log_text()

    assert server.stop() == 0  # the Ctrl-C on leaving the block ended it cleanly
    assert "Ctrl-C" in err and KEY not in out + err
    assert database.exists()


def test_sigterm_stops_serve_as_ctrl_c_does(tmp_path: Path) -> None:
    """A service manager stops the server with SIGTERM: it stops cleanly, its workers' folder
    (in the temporary directory it was given) removed."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    server = ServeProcess(tmp_path / "served.sqlite3", workers=1, env={"TMPDIR": str(scratch)})
    server.start()
    (workers_folder,) = scratch.iterdir()
    assert workers_folder.name.startswith("batchrun-workers-")

    assert server.stop(signal.SIGTERM) == 0
    assert "batchrun: stopping" in server.log_text()
    assert list(scratch.iterdir()) == []
