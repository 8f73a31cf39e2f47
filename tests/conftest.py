"""What every test runs in: none of the user's environment, and reproducible examples on CI.

Isolation: no ``PINEXQ_*``, ``BATCHRUN_*`` or ``JMC_*`` variable reaches a test, a server
or a subprocess, ``HOME`` is an empty folder and the working directory another, so a real
endpoint, API key or ``pinexq.toml`` of the user's shell or home is never used (a test
that wants one sets it itself). It is done twice: once for the whole session, before any
module- or session-scoped fixture starts a server, and again around every test.
``tests/test_isolation.py`` proves it. Ctrl-C (SIGINT) works in every process the tests
start even when the shell that started pytest ignores it (a command sent to the background
by a script or ``nohup`` does), since several tests stop a server or an apply with it.

Hypothesis: the ``ci`` profile is loaded when ``CI`` is set (CI runs with ``CI=true``). It
is derandomized, so a CI failure reproduces locally with ``CI=true make test``; no profile
has a deadline, since a slow machine is not a failing test.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

from tests.support import ROOT

# Browser fixtures (``browser``, ``browser_page``) for every test module.
pytest_plugins = ["tests.browser"]

SCRUBBED_PREFIXES = ("PINEXQ_", "BATCHRUN_", "JMC_")

settings.register_profile("ci", derandomize=True, deadline=None, database=None, print_blob=True)
# Failing examples are kept in the repository's .hypothesis/, whatever the working directory.
settings.register_profile("dev", deadline=None,
                          database=DirectoryBasedExampleDatabase(ROOT / ".hypothesis" / "examples"))
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def isolate(patch: pytest.MonkeyPatch, home: Path, cwd: Path) -> None:
    """Remove the user's platform and batchrun settings; point HOME and the cwd at ``home``/``cwd``."""
    for name in list(os.environ):
        if name.startswith(SCRUBBED_PREFIXES):
            patch.delenv(name)
    patch.setenv("HOME", str(home))
    patch.chdir(cwd)


@pytest.fixture(scope="session", autouse=True)
def isolated_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Before any wide-scoped fixture starts a server or a subprocess, which would inherit the environment."""
    inherited = signal.getsignal(signal.SIGINT)
    if inherited == signal.SIG_IGN:  # an ignored signal stays ignored in every child; a handled one does not
        signal.signal(signal.SIGINT, signal.default_int_handler)
    with pytest.MonkeyPatch.context() as patch:
        isolate(patch, tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("cwd"))
        yield
    signal.signal(signal.SIGINT, inherited)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test starts in an empty working directory with an empty HOME."""
    isolate(monkeypatch, tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("cwd"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line, not one per test, when the browser tests could not run here."""
    from tests.browser import ENABLE_HINT, why_unavailable

    skipped = terminalreporter.stats.get("skipped", [])
    if any("browser tests skipped" in str(report.longrepr) for report in skipped):
        terminalreporter.write_line(f"browser tests skipped: {why_unavailable()}; {ENABLE_HINT}")
