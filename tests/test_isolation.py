"""The suite never uses the user's platform: ``tests/conftest.py`` isolates every test.

A user's shell may point at a real PineXQ deployment (``PINEXQ_ENDPOINT``,
``PINEXQ_API_KEY``, a ``pinexq.toml`` in the working directory or in HOME). Here a
representative part of the suite runs in a pytest subprocess with all of them pointing at a
local socket that records every connection: in-process ``plan``, ``apply`` and ``status``,
``batchrun`` run as a subprocess, ``batchrun serve`` started by a test and by a
module-scoped fixture. It must pass without a single connection to that socket and without
the API key showing anywhere in its output. It also starts with Ctrl-C ignored, as a shell
script's background command does, which the servers stopped by Ctrl-C must not inherit.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

from tests.support import ROOT

MARKER = "users-real-api-key-0d5e8c1b77"
SELECTED = [
    # in-process plan and resolution with no endpoint given: the embedded JMA, not the user's
    "tests/batch/test_connection.py::test_embedded_jma_keeps_jobs_next_to_the_manifest",
    "tests/batch/test_connection.py::test_pinexq_toml_in_the_working_directory",
    # in-process apply (embedded) and status
    "tests/reliability/test_worker_faults.py::test_an_embedded_apply_hands_execution_timeout_to_the_server",
    "tests/batch/test_status_report.py::test_status_of_a_completed_batch_exits_0",
    # the console script as a subprocess
    "tests/batch/test_apply_embedded.py::test_a_failing_point_then_rerun_after_fixing_the_step",
    # batchrun serve, from a test and from a module-scoped fixture
    "tests/localjma/test_serve.py::test_serve_prints_the_url_runs_jobs_and_stops_on_ctrl_c",
    "tests/batch/test_connection.py::test_commands_against_a_standalone_serve_with_an_api_key",
]


class Listener:
    """A TCP socket on 127.0.0.1 that accepts, records and closes every connection."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self.port = self._socket.getsockname()[1]
        self.connections: list[tuple[str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, peer = self._socket.accept()
            except TimeoutError:
                continue
            self.connections.append(peer)
            connection.close()

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()


def test_the_suite_ignores_the_users_endpoint_api_key_and_pinexq_toml(tmp_path: Path) -> None:
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    with Listener() as listener:
        endpoint = f"http://127.0.0.1:{listener.port}"
        for folder in (home, cwd):
            folder.mkdir()
            (folder / "pinexq.toml").write_text(f'[project]\npinexq_endpoint = "{endpoint}"\n', encoding="utf-8")
        users = {"HOME": str(home), "PINEXQ_ENDPOINT": endpoint, "PINEXQ_API_KEY": MARKER,
                 "BATCHRUN_SERVE_API_KEY": MARKER}
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "--basetemp",
             str(tmp_path / "basetemp"), *(str(ROOT / test) for test in SELECTED)],
            cwd=cwd, env={**os.environ, **users}, capture_output=True, text=True, timeout=240,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )
    output = done.stdout + done.stderr

    assert done.returncode == 0, output[-6000:]
    assert f"{len(SELECTED)} passed" in done.stdout, done.stdout[-3000:]
    assert listener.connections == [], f"the suite connected to the user's endpoint: {listener.connections}"
    assert MARKER not in output
