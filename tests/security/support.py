"""What the security tests share: the API key, and a snapshot of everything a local JMA stores."""

from __future__ import annotations

import json
from typing import Any

import httpx

KEY = "hostile-input-test-key-7d1f"
PAGE = {"Pagination": {"PageSize": 1000}}


def _entities(http: httpx.Client, root: str) -> list[str]:
    created = http.post(f"/api/{root}/Query", json=PAGE)
    assert created.status_code == 201, created.text
    page = http.get(created.headers["location"]).json()
    return sorted(json.dumps(entity["properties"], sort_keys=True) for entity in page.get("entities", []))


def snapshot(http: httpx.Client) -> dict[str, Any]:
    """Every job, step and WorkData with all their properties (tags, flags, states), and the used tags.

    Read through the API: the server holds its SQLite file exclusively while it runs.
    """
    return {
        "jobs": _entities(http, "JobsRoot"),
        "steps": _entities(http, "ProcessingStepsRoot"),
        "workdata": _entities(http, "WorkDataRoot"),
        "job_tags": http.get("/api/JobsRoot/UsedTags").json()["properties"],
    }
