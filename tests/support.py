"""What every test shares: the repository's paths, the console script, bounded waiting.

Paths come from this file, never from the working directory, so the suite passes when
pytest starts in any folder.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
from collections.abc import Callable
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


def read_report(manifest: Path, batch: str, fmt: str = "json") -> Any:
    """The report ``apply``/``report`` wrote for ``batch`` under ``reports/`` next to ``manifest``."""
    path = manifest.parent / "reports" / f"{batch}.{fmt}"
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if fmt == "json" else text


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
