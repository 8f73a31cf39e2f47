"""Steps that misbehave, for the worker pool tests: crashes, floods, odd results."""

import os
import sys
import threading
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

from pydantic import BaseModel


class Shape(Enum):
    SQUARE = "square"


class Box(BaseModel):
    shape: Shape
    size: tuple[int, int]


def exit_now(code: int) -> None:
    """Leave the worker process at once, as a crash in native code would."""
    os._exit(code)


def exit_if(code: int | None = None) -> None:
    """Leave the worker process at once when given an exit code, else do nothing."""
    if code is not None:
        os._exit(code)


def segfault() -> None:
    """Crash the interpreter by reading address zero."""
    import ctypes

    ctypes.string_at(0)


def hang(pid_file: str) -> None:
    """Write the worker's pid, then block until the process is killed."""
    Path(pid_file).write_text(str(os.getpid()))
    threading.Event().wait()


def chatty(megabytes: int) -> int:
    """Print megabytes to stdout and stderr, then return normally."""
    line = "x" * 1023 + "\n"
    for _ in range(megabytes * 512):
        print(line, end="")
        print(line, end="", file=sys.stderr)
    return megabytes


def unserialisable() -> dict[str, object]:
    """Return something that is not JSON."""
    return {"thing": object()}


def rich_result() -> dict[str, object]:
    """Models, enums, datetimes, tuples and sets in one result."""
    return {
        "box": Box(shape=Shape.SQUARE, size=(2, 3)),
        "when": datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        "pair": (1, 2),
        "set": {3},
    }


def wrong_return() -> int:
    """Return a value that contradicts the annotation."""
    return "not a number"  # type: ignore[return-value]


def leave(code: int) -> int:
    """Call sys.exit inside a step: the job fails, the worker lives on."""
    sys.exit(code)


def environment(name: str) -> str | None:
    """Read an environment variable in the worker."""
    return os.environ.get(name)
