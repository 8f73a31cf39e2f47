"""``batchrun serve`` as a real process that a test can kill (SIGKILL) and start again on
the same database and port."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from types import TracebackType

from tests.batch.conftest import BATCHRUN, STEPS

START_TIMEOUT = 60


class ServeProcess:
    """One ``batchrun serve`` on ``database``; ``kill`` and ``start`` keep the port."""

    def __init__(self, database: Path, log: Path, *, workers: int = 2, steps: tuple[Path, ...] = (STEPS,)) -> None:
        self.database = database
        self.log = log
        self.workers = workers
        self.steps = steps
        self.port = 0
        self.url = ""
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> str:
        command = [BATCHRUN, "serve", "--port", str(self.port), "--db", str(self.database),
                   "--workers", str(self.workers)]
        for source in self.steps:
            command += ["--steps", str(source)]
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
        assert self.process.stdout is not None
        url = self.process.stdout.readline().strip()  # the URL, once the socket listens
        assert url.startswith("http://"), f"batchrun serve did not start: {self.log.read_text()}"
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])
        return url

    def kill(self) -> None:
        """SIGKILL: no clean stop, nothing written on the way out."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> ServeProcess:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
