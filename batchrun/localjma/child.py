"""The embedded local JMA in a child process: ``ChildJMA`` runs a :class:`LocalJMA` there.

In the command's own process the server would share one GIL with the command's submit
and watch threads; in a child it has a core of its own (bench/embedded.py measures the
difference). The child behaves like the in-process server did:

* it runs in a session of its own, so a Ctrl-C in the terminal reaches only the command,
  which still reads its final report from the server before stopping it;
* it stops when the command closes its stdin (or dies), with the same clean stop;
* a start-up error comes back as the same exception (and so the same exit code).

Its module imports almost nothing at the top, because the worker processes it spawns
import it again as their main module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

STOP_TIMEOUT_S = 60.0


class ChildJMA:
    """``LocalJMA(db_path, **options)`` in a child process, for the duration of a ``with``."""

    def __init__(self, db_path: Path | str, **options: Any) -> None:
        self._options = {"db_path": str(db_path), **options}
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> Self:
        from batchrun.errors import BatchrunError, PlatformError, UsageError

        command = [sys.executable, "-m", "batchrun.localjma.child", json.dumps(self._options)]
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        assert self._process.stdout is not None
        answer = _handshake(self._process.stdout.readline())
        if "url" in answer:
            self.url = str(answer["url"])
            return self
        self.stop()
        kinds: dict[str, type[BatchrunError]] = {
            "UsageError": UsageError, "PlatformError": PlatformError, "BatchrunError": BatchrunError,
        }
        error = kinds.get(str(answer.get("kind")), BatchrunError)
        raise error(str(answer.get("error") or "the embedded local JMA did not start; see the messages above"))

    def stop(self) -> None:
        """Ask the child to stop (close its stdin) and wait until it has (safe to call twice)."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def _handshake(line: str) -> dict[str, Any]:
    try:
        answer = json.loads(line)
    except json.JSONDecodeError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _serve(options: dict[str, Any], stdin: IO[str], stdout: IO[str]) -> None:
    """The child: start the server, tell the parent its URL, serve until stdin closes."""
    from batchrun.errors import BatchrunError
    from batchrun.localjma.server import LocalJMA

    try:
        jma = LocalJMA(options.pop("db_path"), **options).start()
    except BatchrunError as error:
        stdout.write(json.dumps({"error": str(error), "kind": type(error).__name__}) + "\n")
        stdout.flush()
        return
    try:
        stdout.write(json.dumps({"url": jma.url}) + "\n")
        stdout.flush()
        os.dup2(2, 1)  # anything printed later goes to stderr, never into the closed handshake
        stdin.read()  # returns at EOF: the parent closed it, or died
    finally:
        jma.stop()


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]), sys.stdin, sys.stdout)
