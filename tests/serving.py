"""``batchrun serve`` as a real process, for every test that needs a standalone server.

It starts as a user starts it (the console script), hands its URL over once the socket
listens (the first line on stdout), and stops as a user stops it (Ctrl-C, i.e. SIGINT).
A test can also kill it (SIGKILL) and start it again on the same database and port.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from tests.support import BATCHRUN, STEPS

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
API_KEY_VARIABLE = "BATCHRUN_SERVE_API_KEY"


def serve_command(database: Path, *, port: int = 0, workers: int = 2, steps: Sequence[Path | str] = (STEPS,),
                  args: Sequence[str] = ()) -> list[str]:
    """The command line of ``batchrun serve`` on ``database`` (``args`` last)."""
    command = [BATCHRUN, "serve", "--port", str(port), "--db", str(database)]
    for source in steps:
        command += ["--steps", str(source)]
    return [*command, "--workers", str(workers), *args]


class ServeProcess:
    """One ``batchrun serve`` on ``database``; ``kill`` and ``start`` keep the port.

    ``api_key`` is demanded by the server and handed over as the README recommends, by
    environment (``BATCHRUN_SERVE_API_KEY``); ``args`` and ``env`` add anything else.
    Its stderr goes to ``log`` (appended to over restarts), by default next to the database.
    """

    def __init__(self, database: Path, log: Path | None = None, *, workers: int = 2,
                 steps: Sequence[Path | str] = (STEPS,), args: Sequence[str] = (), api_key: str | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self.database = database
        self.log = log or database.with_name(f"{database.name}.serve.log")
        self.workers = workers
        self.steps = tuple(steps)
        self.args = tuple(args)
        self.api_key = api_key
        self.env = {**os.environ, **(env or {})}
        if api_key is not None:
            self.env[API_KEY_VARIABLE] = api_key
        self.port = 0
        self.url = ""
        self.process: subprocess.Popen[str] | None = None
        self._output = ""

    @property
    def pid(self) -> int:
        assert self.process is not None, "batchrun serve was not started"
        return self.process.pid

    def start(self) -> str:
        """Start the server (on the port of the last start, if any); return its URL once it listens."""
        command = serve_command(self.database, port=self.port, workers=self.workers, steps=self.steps,
                                args=self.args)
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=self.env)
        first_line: queue.Queue[str] = queue.Queue()
        stdout = self.process.stdout
        assert stdout is not None
        threading.Thread(target=lambda: first_line.put(stdout.readline()), daemon=True).start()
        try:
            url = first_line.get(timeout=START_TIMEOUT).strip()
        except queue.Empty:
            url = ""
        if not url.startswith(("http://", "https://")):
            self.kill()
            raise AssertionError(f"batchrun serve did not print its URL: {self.log_text()}")
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])
        return url

    def kill(self) -> None:
        """SIGKILL: no clean stop, nothing written on the way out."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=STOP_TIMEOUT)
        self._close_stdout(read=False)

    def stop(self, how: signal.Signals = signal.SIGINT) -> int | None:
        """Ctrl-C (SIGINT; ``how``: another signal), then SIGKILL if it has not ended in time;
        return the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(how)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_stdout(read=True)
        return self.process.returncode

    def _close_stdout(self, *, read: bool) -> None:
        stdout = self.process.stdout if self.process is not None else None
        if stdout is not None and not stdout.closed:
            self._output = stdout.read() if read else ""
            stdout.close()

    def output(self) -> str:
        """What the server printed on stdout after its URL, once it has stopped."""
        return self._output

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def __enter__(self) -> ServeProcess:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
