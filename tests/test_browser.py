"""The browser harness itself: a local page renders, and a page that reaches out is caught."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser import WatchedPage, is_local, watched_page
from tests.support import ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def test_a_local_page_renders_offline(browser_page: WatchedPage, tmp_path: Path) -> None:
    page_file = tmp_path / "page.html"
    page_file.write_text("<!doctype html><title>t</title><p id=greeting>hello</p>")
    browser_page.page.goto(page_file.as_uri())
    assert browser_page.page.text_content("#greeting") == "hello"


def test_a_request_leaving_the_machine_is_blocked_and_recorded(browser: Browser, tmp_path: Path) -> None:
    page_file = tmp_path / "page.html"
    page_file.write_text('<!doctype html><title>t</title><img src="https://example.invalid/pixel.png">'
                         "<script>console.error('broken')</script>")
    with watched_page(browser) as watched:
        watched.page.goto(page_file.as_uri())
        watched.page.wait_for_load_state("load")
    assert watched.blocked == ["https://example.invalid/pixel.png"]
    assert any("broken" in text for text in watched.console_errors)
    assert len(watched.problems()) >= 2


@pytest.mark.parametrize(("url", "local"), [
    ("file:///tmp/report.html", True), ("http://127.0.0.1:8000/api", True), ("http://localhost/x", True),
    ("https://cdn.example.com/lib.js", False), ("http://10.0.0.1/", False),
])
def test_only_loopback_and_files_count_as_local(url: str, local: bool) -> None:
    assert is_local(url) is local


def test_without_chromium_the_run_says_so_once_and_how_to_enable() -> None:
    no_chromium = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "tests/test_browser.py::test_a_local_page_renders_offline"],
                         cwd=ROOT, env=no_chromium, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 skipped" in run.stdout
    lines = [line for line in run.stdout.splitlines() if line.startswith("browser tests skipped")]
    assert lines == ["browser tests skipped: Chromium is not installed; install Debian's Chromium "
                     "(`apt-get install -y chromium`) and run `make test` again"]
