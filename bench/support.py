"""What the benchmarks share: a ``batchrun serve --stats`` child, its counters, child processes.

The server runs in its own process so that no client shares its GIL, and its request
counter is the one truth about traffic. Each measured client runs in a child process of
its own too, so its peak RSS is its own (``os.wait4`` reports it per child).
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BATCHRUN = str(Path(sys.executable).parent / "batchrun")
STEPS = str(ROOT / "bench" / "steps.py")
STATS = "/api/_stats"


@contextmanager
def served(database: Path, *, steps: str = STEPS, workers: int | None = None) -> Iterator[str]:
    """A ``batchrun serve --stats`` child process on ``database``; yields its URL."""
    command = [BATCHRUN, "serve", "--port", "0", "--db", str(database), "--steps", steps, "--stats"]
    if workers is not None:
        command += ["--workers", str(workers)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = server.stdout.readline().strip() if server.stdout else ""
        if not url:
            raise RuntimeError(f"batchrun serve did not start: {' '.join(command)}")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)


def reset_stats(url: str) -> None:
    httpx.delete(url + STATS).raise_for_status()


def read_stats(url: str) -> dict[str, Any]:
    answer = httpx.get(url + STATS)
    answer.raise_for_status()
    return answer.json()  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ChildRun:
    """A finished child process: when it started (epoch), wall time to exit, peak RSS, output."""

    started_at: float
    seconds: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_child(command: Sequence[str], *, cwd: Path | None = None) -> ChildRun:
    """Run ``command`` to completion; its peak RSS comes from ``os.wait4`` (this child only)."""
    started_at, started = time.time(), time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
    out, err = _drain(child)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(started_at, seconds, usage.ru_maxrss / 1024, child.returncode, out, err)


def _drain(child: subprocess.Popen[bytes]) -> tuple[str, str]:
    """Both pipes to EOF without reaping the child (``communicate`` would reap it)."""
    chunks: dict[int, list[bytes]] = {}
    with selectors.DefaultSelector() as selector:
        for stream in (child.stdout, child.stderr):
            assert stream is not None
            selector.register(stream, selectors.EVENT_READ)
            chunks[stream.fileno()] = []
        while selector.get_map():
            for key, _ in selector.select():
                data = os.read(key.fd, 65536)
                if data:
                    chunks[key.fd].append(data)
                else:
                    selector.unregister(key.fileobj)
    assert child.stdout is not None and child.stderr is not None
    out, err = (b"".join(chunks[stream.fileno()]).decode(errors="replace") for stream in (child.stdout, child.stderr))
    return out, err


def python_child(module: str, *arguments: str) -> ChildRun:
    """``python -m module arguments`` from the project root, measured by :func:`run_child`."""
    return run_child([sys.executable, "-m", module, *arguments], cwd=ROOT)


def last_json(text: str) -> dict[str, Any]:
    """The last JSON object line of a child's stdout (pinexq-client prints notices there too)."""
    line = next(line for line in reversed(text.splitlines()) if line.startswith("{"))
    return json.loads(line)  # type: ignore[no-any-return]
