"""``batchrun ui``: the portal over a manifest's embedded database, as a user starts and stops it."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support import BATCHRUN, STEPS, run_batchrun, wait_until

MANIFEST = f"""version: 1
batch: portal-sweep
step: {{function: add, version: "1.0.0"}}
local: {{steps: [{STEPS}], workers: 1}}
parameters: {{b: 10}}
grid:
  a: [1, 2, 3]
name: "add-{{{{ a }}}}"
"""


@contextmanager
def ui(*args: str, env: Mapping[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``batchrun ui ARGS`` running; yields the URL it printed first, and the process."""
    process = subprocess.Popen([BATCHRUN, "ui", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, **(env or {})})
    first: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=lambda: first.put(process.stdout.readline() if process.stdout else ""), daemon=True).start()
    try:
        url = first.get(timeout=60).strip()
        assert url.startswith("http://127.0.0.1:"), process.stderr.read() if process.stderr else url
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_ui_serves_the_manifests_embedded_database_until_ctrl_c(tmp_path: Path) -> None:
    manifest = tmp_path / "sweep.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    applied = run_batchrun("apply", str(manifest), "--yes")
    assert applied.returncode == 0, applied.stderr
    with ui(str(manifest), "--port", "0") as (url, process), httpx.Client(base_url=url, follow_redirects=True) as web:
        assert url.endswith("/")
        batches = web.get("/batches")
        assert batches.status_code == 200 and "portal-sweep" in batches.text and "3 jobs" in batches.text
        assert "add-2" in web.get("/jobs", params={"batch": "portal-sweep"}).text
        assert web.get("/api/EntryPoint").status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert process.stderr is not None and "batchrun: stopping" in process.stderr.read()


def test_ui_open_hands_the_url_to_the_users_browser(tmp_path: Path) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.py"
    browser.write_text(f"import sys, pathlib\npathlib.Path({str(opened)!r}).write_text(sys.argv[1])\n")
    with ui("--port", "0", "--open", env={"BROWSER": f"{sys.executable} {browser} %s"}) as (url, _):
        assert wait_until(lambda: opened.exists() and opened.read_text(), what="the browser to be started") == url
    assert (Path.cwd() / ".batchrun" / "localjma.sqlite3").exists()  # no manifest: ./.batchrun


def test_ui_with_a_broken_manifest_says_where_and_serves_nothing(tmp_path: Path) -> None:
    manifest = tmp_path / "broken.yaml"
    manifest.write_text("version: 1\nbatch: [not, a, name]\n", encoding="utf-8")
    result = run_batchrun("ui", str(manifest), "--port", "0", timeout=60)
    assert result.returncode == 2
    assert "broken.yaml:2" in result.stderr
    assert not (tmp_path / ".batchrun").exists()
