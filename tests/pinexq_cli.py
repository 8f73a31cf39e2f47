"""The platform's own ``pinexq`` CLI (PyPI ``pinexq-cli``), installed for the tests that run it.

It needs Python >= 3.13, which batchrun does not: a Python that new is looked for on PATH
and under pyenv, and the CLI is installed into its own venv under the repository's
``.pytest_cache`` (reused while the version and the Python stay the same). Without such a
Python, or when the install fails, the tests that need it are skipped with one line
saying how to enable them.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

from tests.support import ROOT

CLI_VERSION = "0.7.0"
MINIMUM_PYTHON = (3, 13)
INSTALL_TIMEOUT = 600.0
INSTALLED_MARKER = ".installed"


class Unavailable(Exception):
    """Why the CLI cannot run here, worded as the one line of a skip."""


def _version(python: str) -> tuple[int, int] | None:
    try:
        answer = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"],
                                capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = answer.stdout.split()
    return (int(parts[0]), int(parts[1])) if answer.returncode == 0 and len(parts) == 2 else None


def _pyenv_roots() -> list[Path]:
    """``PYENV_ROOT``, and ``~/.pyenv`` of the real home (the tests' ``HOME`` is a temp folder)."""
    roots = [Path(os.environ["PYENV_ROOT"])] if os.environ.get("PYENV_ROOT") else []
    return [*roots, Path(pwd.getpwuid(os.getuid()).pw_dir) / ".pyenv"]


def _candidates() -> list[str]:
    on_path = [shutil.which(name) for name in ("python3.15", "python3.14", "python3.13", "python3")]
    under_pyenv = [
        str(python) for root in _pyenv_roots()
        for python in sorted(root.glob("versions/*/bin/python3"), reverse=True)
    ]
    return [found for found in (*on_path, *under_pyenv) if found]


def find_python() -> tuple[str, tuple[int, int]]:
    """A Python >= 3.13 and its version, or :class:`Unavailable`."""
    for python in _candidates():
        version = _version(python)
        if version is not None and version >= MINIMUM_PYTHON:
            return python, version
    raise Unavailable(
        f"the pinexq CLI needs Python >= {'.'.join(map(str, MINIMUM_PYTHON))}, found none on PATH or under pyenv; "
        "install one (e.g. `pyenv install 3.13`) to run these tests"
    )


def install_cli() -> Path:
    """The ``pinexq`` executable of ``pinexq-cli==CLI_VERSION`` in its venv, installed when missing."""
    python, version = find_python()
    venv = ROOT / ".pytest_cache" / f"pinexq-cli-{CLI_VERSION}-py{version[0]}.{version[1]}"
    executable = venv / "bin" / "pinexq"
    if (venv / INSTALLED_MARKER).exists() and executable.exists():
        return executable
    shutil.rmtree(venv, ignore_errors=True)  # a half-made venv from an interrupted install
    steps = [[python, "-m", "venv", str(venv)],
             [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"pinexq-cli=={CLI_VERSION}"]]
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Unavailable(f"installing pinexq-cli=={CLI_VERSION} took over {INSTALL_TIMEOUT:g} s") from None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise Unavailable(
                f"could not install pinexq-cli=={CLI_VERSION} with {python} ({last}); "
                "give pip access to PyPI to run these tests"
            )
    (venv / INSTALLED_MARKER).write_text(f"{python}\n")
    return executable
