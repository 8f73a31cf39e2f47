"""``plan`` against a server that refuses every mutating request still works.

A loopback proxy in front of the local JMA forwards GETs and the two query actions
(CreateJobQuery, CreateProcessingStepQuery) and answers 405 to every other request, so
any mutating call plan might make would fail the command and be on the proxy's record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from batchrun.client import Platform
from batchrun.errors import PlatformError
from batchrun.manifest import expand, load_manifest
from batchrun.steps import resolve_step
from tests.batch.loopback import LoopbackProxy

QUERY_ACTIONS = ("/api/JobsRoot/Query", "/api/ProcessingStepsRoot/Query")


def read_only(method: str, path: str) -> str:
    if method == "GET" or (method == "POST" and path.split("?", 1)[0] in QUERY_ACTIONS):
        return "forward"
    return "refuse"


@pytest.fixture
def proxy(jma) -> Iterator[LoopbackProxy]:
    with LoopbackProxy(jma.url, read_only) as server:
        yield server


def refused(proxy: LoopbackProxy) -> list[str]:
    return [line for line in proxy.requests if read_only(*line.split(" ", 1)) == "refuse"]


def test_plan_through_a_read_only_proxy(cli, proxy, platform, submit, write_manifest):
    path = write_manifest("readonly", grid="a: {range: [0, 30]}")
    manifest = load_manifest(path)
    submit(platform, manifest, expand(manifest, step_version="1.0.0")[:25])
    for output in ("table", "json"):
        proxy.requests.clear()
        result = cli(["plan", str(path), "--endpoint", proxy.url, "-o", output, "--explain", "--prune"])
        assert result.exit_code == 0, result.stderr
        # Entry point, info, two roots, one step query and one job query (POST + GET each):
        # the cost does not grow with the number of jobs.
        assert len(proxy.requests) <= 8, proxy.requests
    document = json.loads(result.stdout)
    assert document["summary"]["unchanged"] == 25 and document["summary"]["create"] == 5
    assert refused(proxy) == []
    assert proxy.count("POST", "/api/JobsRoot/Query") == 1


def test_the_proxy_really_refuses_changes(proxy):
    with Platform(proxy.url, None) as readonly:
        step = resolve_step(readonly, "add", "1.0.0")
        with pytest.raises(PlatformError, match="405"):
            readonly.create_job(name="x", step=step, parameters={"a": 1, "b": 2}, tags=["t"])
    assert refused(proxy) == ["POST /api/JobsRoot/RapidSetupJob"]
