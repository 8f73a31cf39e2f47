"""A real local JMA (with real worker processes) and real pinexq clients for the tests.

One server runs for the whole session (starting workers costs about a second); tests
isolate themselves by unique names and tags. Tests that restart a server start their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pinexq.client.job_management  # noqa: F401  (must come before the event manager: circular import)
import pytest
from pinexq.client.core.api_event_manager import ApiEventManagerSingleton

from batchrun.localjma import LocalJMA
from tests.support import STEPS, STEPS_DIR

SOURCES = [str(STEPS), str(STEPS_DIR / "localjma_misc.py"), str(STEPS_DIR / "lineage_steps.py")]

# The SSE worker thread lingers for this cooldown after the last wait; keep test runs snappy.
ApiEventManagerSingleton().sse_connection_cooldown_s = 0


@pytest.fixture(scope="session")
def jma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalJMA]:
    database = tmp_path_factory.mktemp("localjma") / "localjma.sqlite3"
    with LocalJMA(database, steps=SOURCES, workers=2) as server:
        yield server


@pytest.fixture
def client(jma: LocalJMA) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=jma.url) as http:
        yield http


@pytest.fixture
def tag() -> str:
    """A tag no other test uses, to find exactly this test's jobs."""
    return f"test={uuid.uuid4().hex[:12]}"


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "localjma.sqlite3"
