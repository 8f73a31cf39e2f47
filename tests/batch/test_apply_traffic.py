"""What apply sends: one create per job, no request per job while waiting, no blind
re-create after an ambiguous failure, and the API key only ever in the header."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator

import pytest

from batchrun.client import Platform
from batchrun.localjma import LocalJMA
from tests.batch.loopback import LoopbackProxy, forward_all
from tests.support import STEPS, read_report

CREATE = "/api/JobsRoot/RapidSetupJob"
JOB_RESOURCE = re.compile(r"^GET /api/Job/[^/?]+$")


def lose_first_creates(count: int):
    """A rule that lets the first ``count`` creates reach the server but loses the answer."""
    lost = []
    lock = threading.Lock()

    def rule(method: str, path: str) -> str:
        with lock:
            if method == "POST" and path == CREATE and len(lost) < count:
                lost.append(path)
                return "lose-answer"
        return "forward"

    return rule


def test_a_lost_create_answer_adopts_the_job_instead_of_creating_another(
    cli, jma, platform, write_manifest
):
    path = write_manifest("ambiguous", grid="a: [1, 2, 3, 4]", extra="execution: {submit: 2}\n")
    with LoopbackProxy(jma.url, lose_first_creates(2)) as proxy:
        result = cli(["apply", str(path), "--endpoint", proxy.url])
    assert result.exit_code == 0, result.stderr
    jobs = platform.owned_jobs("ambiguous")
    assert len(jobs) == 4 and len({job.key for job in jobs}) == 4
    assert all(job.state == "Completed" for job in jobs)
    assert proxy.count("POST", CREATE) == 4  # the two lost creates were looked up, not resent


def test_waiting_costs_no_request_per_job(cli, jma, write_manifest):
    path = write_manifest("quiet", grid="a: {range: [0, 40]}")
    with LoopbackProxy(jma.url, forward_all) as proxy:
        result = cli(["apply", str(path), "--endpoint", proxy.url])
    assert result.exit_code == 0, result.stderr
    assert proxy.count("POST", CREATE) == 40
    assert [line for line in proxy.requests if JOB_RESOURCE.match(line)] == []


def test_losing_the_platform_mid_run_still_writes_the_report(cli, jma, platform, write_manifest):
    path = write_manifest("lost", function="sleep_ms", grid="ms: [300, 301, 302, 303]",
                          parameters="{}", extra="execution: {max_running: 2}\n")
    creates = []

    def rule(method: str, path: str) -> str:
        if path == CREATE:
            creates.append(path)
        # Once jobs exist, every query (the watch loop's re-reads) is refused.
        return "refuse" if creates and path.startswith("/api/JobsRoot/Query") else "forward"

    with LoopbackProxy(jma.url, rule) as proxy:
        result = cli(["apply", str(path), "--endpoint", proxy.url])
    assert result.exit_code == 1
    assert "405" in result.stderr and "the report shows what was last seen" in result.stderr
    report = read_report(path, "lost")
    assert len(report["jobs"]) == 4
    assert {row["state"] for row in report["jobs"][2:]} == {"NotCreated"}
    assert len(platform.owned_jobs("lost")) == 2  # nothing more was submitted


KEY = "s3cret-apply-key-1234"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalJMA]:
    database = tmp_path_factory.mktemp("guarded") / "jma.sqlite3"
    with LocalJMA(database, steps=[str(STEPS)], workers=1, api_key=KEY) as server:
        yield server


def test_apply_with_an_api_key_from_flags_or_environment(cli, guarded, write_manifest):
    path = write_manifest("keyed", grid="a: [1, 2]")
    by_flags = cli(["apply", str(path), "--endpoint", guarded.url, "--api-key", KEY])
    assert by_flags.exit_code == 0, by_flags.stderr
    by_env = cli(["apply", str(path), "-o", "json"],
                 env={"PINEXQ_ENDPOINT": guarded.url, "PINEXQ_API_KEY": KEY})
    assert by_env.exit_code == 0, by_env.stderr
    assert "2 unchanged" in by_env.stderr
    wrong = cli(["apply", str(path), "--endpoint", guarded.url, "--api-key", KEY + "-wrong"])
    assert wrong.exit_code == 1 and "401" in wrong.stderr
    reports = [p.read_text(encoding="utf-8") for p in (path.parent / "reports").iterdir()]
    for text in [by_flags.stdout, by_flags.stderr, by_env.stdout, by_env.stderr,
                 wrong.stdout, wrong.stderr, *reports]:
        assert KEY not in text
    with Platform(guarded.url, KEY) as platform:
        assert len(platform.owned_jobs("keyed")) == 2
    assert json.loads(by_env.stdout)["jobs"][1]["result"]["sum"] == 12
