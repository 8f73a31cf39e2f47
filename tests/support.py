"""What every test shares: the repository's paths, the console script, bounded waiting.

Paths come from this file, never from the working directory, so the suite passes when
pytest starts in any folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "manifests"
STEPS_DIR = ROOT / "tests" / "steps"
STEPS = STEPS_DIR / "basic.py"


def _console_script() -> str:
    """The installed ``batchrun`` script next to this interpreter, as a user's shell finds it."""
    found = shutil.which("batchrun", path=str(Path(sys.executable).parent))
    if found is None:
        raise RuntimeError(f"no batchrun console script next to {sys.executable}: run `pip install -e .`")
    return found


BATCHRUN = _console_script()


def run_batchrun(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None, timeout: float = 300,
                 **options: Any) -> subprocess.CompletedProcess[str]:
    """``batchrun ARGS`` as a user runs it: the console script in a subprocess, its output
    captured as text; ``env`` is added to the test's (isolated) environment."""
    return subprocess.run([BATCHRUN, *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True,
                          text=True, timeout=timeout, **options)


@contextmanager
def running(*args: str, folder: Path) -> Iterator[subprocess.Popen[str]]:
    """``batchrun ARGS`` as a subprocess, its output in ``out.txt``/``err.txt`` of ``folder``
    (no pipe to fill up); killed on the way out if it still runs."""
    with open(folder / "out.txt", "w") as out, open(folder / "err.txt", "w") as err:
        process = subprocess.Popen([BATCHRUN, *args], stdout=out, stderr=err, text=True)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


def read_report(manifest: Path, batch: str, fmt: str = "json", *, folder: str = "reports") -> Any:
    """The report ``apply``/``report`` wrote for ``batch`` into ``folder`` (``report.dir``,
    ``reports/`` by default) next to ``manifest``; JSON is parsed, other formats are text."""
    path = manifest.parent / folder / f"{batch}.{fmt}"
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if fmt == "json" else text


def page_data(page: str) -> Any:
    """The data an HTML report page draws: its ``<script type="application/json">`` block."""
    start = page.index('<script type="application/json" id="report-data">')
    block = page[page.index(">", start) + 1:page.index("</script>", start)]
    return json.loads(block)


def wait_until(
    probe: Callable[[], T], *, timeout: float = 10.0, interval: float = 0.02, what: str = "condition"
) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        pause.wait(interval)
