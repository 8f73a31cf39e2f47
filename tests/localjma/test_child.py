"""The embedded local JMA in a child process: serves like LocalJMA, fails like it, stops cleanly."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pinexq.client.job_management import ProcessingStep

from batchrun.errors import BatchrunError
from batchrun.localjma import LocalJMA
from batchrun.localjma.child import served_in_child
from tests.support import STEPS


def test_serves_the_api_and_releases_the_database_when_stopped(database: Path) -> None:
    with served_in_child(database, steps=[str(STEPS)], workers=0) as url, httpx.Client(base_url=url) as client:
        assert ProcessingStep.from_name(client, "add").processing_step_hco.function_name == "add"

    with LocalJMA(database, workers=0):  # the child is gone: its lock on the database too
        pass


def test_a_start_up_error_comes_back_as_the_same_error(database: Path) -> None:
    with LocalJMA(database, workers=0), pytest.raises(BatchrunError, match="in use by another local JMA"):
        with served_in_child(database, workers=0):
            pass
