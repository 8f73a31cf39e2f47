"""A real local JMA serving the portal, with real workers, for the browser and HTTP tests.

One worker, so a ``hold`` job (waiting for a gate file) keeps the next job Pending until
the test opens the gate: every state a job passes through can be seen, without timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from batchrun.localjma import LocalJMA
from tests.support import STEPS, STEPS_DIR

PORTAL_STEPS = [str(STEPS_DIR / "portal_steps.py"), str(STEPS), str(STEPS_DIR / "lineage_steps.py")]


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalJMA]:
    database = tmp_path_factory.mktemp("portal") / "localjma.sqlite3"
    with LocalJMA(database, steps=PORTAL_STEPS, workers=1) as server:
        yield server


@pytest.fixture
def gates(tmp_path: Path) -> Path:
    """A folder for gate files: a ``hold`` or ``scale`` job waits until its gate exists."""
    folder = tmp_path / "gates"
    folder.mkdir()
    return folder
