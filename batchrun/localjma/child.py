"""The embedded local JMA in a child process: ``served_in_child`` runs a :class:`LocalJMA` there.

In the command's own process the server would share one GIL with the command's submit
and watch threads; in a child it has a core of its own (bench/embedded.py measures the
difference). The child behaves like the in-process server did:

* it runs in a session of its own, so a Ctrl-C in the terminal reaches only the command,
  which still reads its final report from the server before stopping it;
* it stops when the command closes its stdin (or dies), with the same clean stop;
* a start-up error comes back as the same exception (and so the same exit code); a
  :class:`~batchrun.localjma.errors.SettingError` keeps the setting it names.

Its module imports almost nothing at the top, because the worker processes it spawns
import it again as their main module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

STOP_TIMEOUT_S = 60.0


@contextmanager
def served_in_child(db_path: Path | str, **options: Any) -> Iterator[str]:
    """``LocalJMA(db_path, **options)`` in a child process for a ``with``; yields its URL."""
    arguments = json.dumps({"db_path": str(db_path), **options})
    process = subprocess.Popen(
        [sys.executable, "-m", "batchrun.localjma.child", arguments],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        assert process.stdout is not None
        answer = _handshake(process.stdout.readline())
        if "url" not in answer:
            raise _start_error(answer)
        yield str(answer["url"])
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[str]) -> None:
    """Ask the child to stop (close its stdin) and wait until it has."""
    if process.stdin is not None:
        process.stdin.close()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _start_error(answer: dict[str, Any]) -> Exception:
    """The child's start-up error, as the exception the child raised."""
    from batchrun.errors import BatchrunError, PlatformError, UsageError
    from batchrun.localjma.errors import InvalidSetting, SettingError

    kind = str(answer.get("kind"))
    setting = answer.get("setting")
    if isinstance(setting, list) and len(setting) == 3:
        return (InvalidSetting if kind == InvalidSetting.__name__ else SettingError)(*map(str, setting))
    kinds: dict[str, type[BatchrunError]] = {
        "UsageError": UsageError, "PlatformError": PlatformError, "BatchrunError": BatchrunError,
    }
    error = kinds.get(kind, BatchrunError)
    return error(str(answer.get("error") or "the embedded local JMA did not start; see the messages above"))


def _error_answer(error: Exception) -> dict[str, Any]:
    """A start-up error as the child tells the parent: its text, its kind and, for a setting, the parts."""
    from batchrun.localjma.errors import SettingError

    answer: dict[str, Any] = {"error": str(error), "kind": type(error).__name__}
    if isinstance(error, SettingError):
        answer["setting"] = [error.before, error.setting, error.after]
    return answer


def _handshake(line: str) -> dict[str, Any]:
    try:
        answer = json.loads(line)
    except json.JSONDecodeError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _serve(options: dict[str, Any], stdin: IO[str], stdout: IO[str]) -> None:
    """The child: start the server, tell the parent its URL, serve until stdin closes."""
    from batchrun.collector import importing, skip_collection_at_exit

    with importing():
        from batchrun.errors import BatchrunError
        from batchrun.localjma.server import LocalJMA
    skip_collection_at_exit()

    try:
        jma = LocalJMA(options.pop("db_path"), **options).start()
    except BatchrunError as error:
        stdout.write(json.dumps(_error_answer(error)) + "\n")
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
