"""Pages opened in a real browser: Playwright driving the system's headless Chromium.

Playwright's own browser download is not used: the browser is Debian's ``chromium``
package (``apt-get install -y chromium``), found on ``PATH``. Without it, or without the
``playwright`` package, every test that asks for ``browser_page`` is skipped, and the run
ends with one line saying so and how to enable them (``tests/conftest.py``).

Every page is watched: a request to anything but ``file:`` or loopback is blocked and
recorded, and so is every console error and uncaught exception. A test fails at its end
when any occurred, so "opens offline, no errors" holds for every browser test without
each one repeating it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Route

ENABLE_HINT = "install Debian's Chromium (`apt-get install -y chromium`) and run `make test` again"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def find_chromium() -> str | None:
    """The system Chromium's path, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def why_unavailable() -> str | None:
    """None when browser tests can run; otherwise what is missing."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (`pip install -e '.[test]'`)"
    if find_chromium() is None:
        return "Chromium is not installed"
    return None


def is_local(url: str) -> bool:
    """Whether a request stays on this machine (a file, data, or a loopback server)."""
    parts = urlsplit(url)
    if parts.scheme in ("file", "data", "blob", "about"):
        return True
    return parts.hostname in LOCAL_HOSTS


@dataclass
class WatchedPage:
    """A browser tab with what went wrong in it: console errors, page errors, blocked requests."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    expected_statuses: set[int] = field(default_factory=set)

    def expect_status(self, status: int) -> None:
        """A page answered with ``status`` on purpose (a refused form, a 404 after a delete):
        the console error Chromium logs for it is no problem."""
        self.expected_statuses.add(status)

    def problems(self) -> list[str]:
        expected = tuple(f"the server responded with a status of {status} " for status in self.expected_statuses)
        errors = [text for text in self.console_errors if not (expected and any(e in text for e in expected))]
        return ([f"console error: {text}" for text in errors]
                + [f"request left the machine: {url}" for url in self.blocked])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module.

    Not per session: Playwright's sync API runs an event loop in the main thread while it
    is open, and every later test that calls ``asyncio.run`` would fail."""
    reason = why_unavailable()
    if reason is not None:
        pytest.skip(f"browser tests skipped: {reason}; {ENABLE_HINT}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=find_chromium(), headless=True,
                                              args=["--no-sandbox"])
        yield launched
        launched.close()


@contextmanager
def watched_page(browser: Browser) -> Iterator[WatchedPage]:
    """A fresh tab that blocks and records every request leaving the machine, and records errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = WatchedPage(context.new_page())

    def guard(route: Route) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            watched.blocked.append(route.request.url)
            route.abort()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append(message.text)

    context.route("**/*", guard)
    watched.page.on("console", on_console)
    watched.page.on("pageerror", lambda error: watched.console_errors.append(str(error)))
    try:
        yield watched
    finally:
        context.close()


@pytest.fixture
def browser_page(browser: Browser) -> Iterator[WatchedPage]:
    """A watched tab; the test fails at its end if the page logged an error or reached out."""
    with watched_page(browser) as watched:
        yield watched
    assert not watched.problems(), "\n".join(watched.problems())
