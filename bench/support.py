"""What the benchmarks share: a ``batchrun serve --stats`` child, its counters, child processes.

The server runs in its own process so that no client shares its GIL, and its request
counter is the one truth about traffic. Each measured client runs in a process of its own
too, started by a small launcher that reports its peak RSS (``os.wait4``) and times it:
a process forked from the benchmark itself would count the benchmark's memory as its own
peak (the kernel carries the high-water mark of the forked copy across ``exec``).
"""

from __future__ import annotations

import compileall
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BATCHRUN = str(Path(sys.executable).parent / "batchrun")
STEPS = str(ROOT / "bench" / "steps.py")
DATA_STEPS = str(ROOT / "bench" / "data_steps.py")  # steps with input and output data slots
STATS = "/api/_stats"


def compile_sources() -> None:
    """Cache the bytecode of batchrun and of these scripts, as ``pip install`` does for a
    package: the clients then all start from bytecode (the libraries they import were
    installed that way), also in an editable install under PYTHONDONTWRITEBYTECODE, where
    every start would otherwise compile batchrun from source (~50 ms)."""
    for package in ("batchrun", "bench"):
        compileall.compile_dir(ROOT / package, quiet=1)


@dataclass(frozen=True)
class Server:
    """A running ``batchrun serve`` child: its URL and process id."""

    url: str
    pid: int

    def peak_mb(self) -> float:
        """The server process's peak RSS so far (its high-water mark, VmHWM)."""
        status = Path(f"/proc/{self.pid}/status").read_text(encoding="utf-8")
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024

    def cpu_seconds(self) -> float:
        """CPU seconds (user and system) the server process has used so far, its workers' not included."""
        fields = Path(f"/proc/{self.pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serving(database: Path, *, steps: str = STEPS, workers: int | None = None) -> Iterator[Server]:
    """A ``batchrun serve --stats`` child process on ``database``."""
    command = [BATCHRUN, "serve", "--port", "0", "--db", str(database), "--steps", steps, "--stats"]
    if workers is not None:
        command += ["--workers", str(workers)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = server.stdout.readline().strip() if server.stdout else ""
        if not url:
            raise RuntimeError(f"batchrun serve did not start: {' '.join(command)}")
        yield Server(url, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)


@contextmanager
def served(database: Path, *, steps: str = STEPS, workers: int | None = None) -> Iterator[str]:
    """A ``batchrun serve --stats`` child process on ``database``; yields its URL."""
    with serving(database, steps=steps, workers=workers) as server:
        yield server.url


def reset_stats(url: str) -> None:
    httpx.delete(url + STATS).raise_for_status()


def read_stats(url: str) -> dict[str, Any]:
    answer = httpx.get(url + STATS)
    answer.raise_for_status()
    return answer.json()  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ChildRun:
    """A finished child process: when it started (epoch), wall time to exit, peak RSS, output,
    and its CPU seconds (user and system), which a loaded machine stretches less than wall time."""

    started_at: float
    seconds: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0


# Forks and execs the command, waits, and writes its figures to the fd in argv[1]. Python
# without site (`-S`) and with only os, sys, time and json loaded: a few MB, below any
# client's peak.
LAUNCHER = """
import json, os, sys, time
report = int(sys.argv[1])
os.set_inheritable(report, False)
command = json.loads(sys.argv[2])
started_at, started = time.time(), time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(command[0], command)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
cpu = usage.ru_utime + usage.ru_stime
os.write(report, json.dumps([started_at, seconds, usage.ru_maxrss, os.waitstatus_to_exitcode(status), cpu]).encode())
"""


def run_child(command: Sequence[str], *, cwd: Path | None = None, stdout: Path | None = None) -> ChildRun:
    """Run ``command`` to completion: wall time from its fork to its exit, and its own peak RSS.

    Its output is returned, or written to the file ``stdout`` (too large to hold: it stays out
    of this process and ``ChildRun.stdout`` is empty).
    """
    report, writer = os.pipe()
    try:
        with open(stdout, "wb") if stdout else contextlib.nullcontext(subprocess.PIPE) as out_file:
            launcher = subprocess.Popen(
                [sys.executable, "-S", "-c", LAUNCHER, str(writer), json.dumps(list(command))],
                stdout=out_file, stderr=subprocess.PIPE, cwd=cwd, pass_fds=(writer,),
            )
    finally:
        os.close(writer)
    out, err = launcher.communicate()
    with os.fdopen(report, "rb") as figures:
        text = figures.read()
    if not text:
        raise RuntimeError(f"the launcher of {command[0]} failed: {err.decode(errors='replace')[-2000:]}")
    started_at, seconds, peak_kb, returncode, cpu_seconds = json.loads(text)
    return ChildRun(started_at, seconds, peak_kb / 1024, returncode,
                    (out or b"").decode(errors="replace"), err.decode(errors="replace"), cpu_seconds)


def python_child(module: str, *arguments: str) -> ChildRun:
    """``python -m module arguments`` from the project root, measured by :func:`run_child`."""
    return run_child([sys.executable, "-m", module, *arguments], cwd=ROOT)


def last_json(text: str) -> dict[str, Any]:
    """The last JSON object line of a child's stdout (pinexq-client prints notices there too)."""
    line = next(line for line in reversed(text.splitlines()) if line.startswith("{"))
    return json.loads(line)  # type: ignore[no-any-return]
