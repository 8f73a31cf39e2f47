"""The API key guard and the refusal to serve other machines without one."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pinexq.client.core import ApiException
from pinexq.client.job_management import Job
from pinexq.client.job_management.enterjma import create_pinexq_client

from batchrun.errors import UsageError
from batchrun.localjma import LocalJMA

KEY = "s3cret-key-for-tests"


def test_requests_need_the_right_api_key(database: Path) -> None:
    with LocalJMA(database, api_key=KEY, workers=0) as jma:
        with httpx.Client(base_url=jma.url) as anonymous:
            missing = anonymous.get("/api/EntryPoint")
            wrong = anonymous.get("/api/Info", headers={"x-api-key": KEY + "x"})
            events = anonymous.get("/api/Events")
        with create_pinexq_client(jma.url, api_key=KEY, use_client_cache=False) as client:
            job = Job(client).create("secured")
        with create_pinexq_client(jma.url, api_key="guess", use_client_cache=False) as intruder:
            with pytest.raises(ApiException) as refused:
                Job(intruder)

    for response in (missing, wrong, events):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 401
        assert KEY not in response.text and "x-api-key" in response.json()["detail"]
    assert job.job_hco.name == "secured"
    assert "401" in str(refused.value) and KEY not in str(refused.value)


def test_serving_other_machines_requires_an_api_key(database: Path) -> None:
    with pytest.raises(UsageError, match="--api-key"):
        LocalJMA(database, host="0.0.0.0")
    assert LocalJMA(database, host="0.0.0.0", api_key=KEY).host == "0.0.0.0"
    assert LocalJMA(database, host="localhost").host == "localhost"
