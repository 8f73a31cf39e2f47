"""The platform boundary against a real local JMA: steps, retries, creates, events, deletes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from batchrun.client import PAGE_SIZE, CreateUncertain, Platform, delete_job
from batchrun.client.retry import retry_after_seconds
from batchrun.errors import PlatformError, UsageError
from batchrun.steps import resolve_step
from tests.batch.loopback import LoopbackProxy
from tests.support import wait_until

VERSIONED = '''
from batchrun import version

@version("{version}")
def scale(x: float) -> float:
    """Scale a number."""
    return x * {factor}
'''


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A JMA with scale@1.0.0, scale@2.0.0 and the prerelease scale@3.0.0-rc1."""
    from batchrun.localjma import LocalJMA

    folder = tmp_path_factory.mktemp("versions")
    files = []
    for number, text in enumerate(["1.0.0", "2.0.0", "3.0.0-rc1"]):
        path = Path(folder) / f"scale_{number}.py"
        path.write_text(VERSIONED.format(version=text, factor=number + 1))
        files.append(str(path))
    with LocalJMA(folder / "jma.sqlite3", steps=files, workers=0) as server, Platform(server.url, None) as platform:
        yield platform


def test_resolve_exact_and_ambiguous_versions(versions):
    step = resolve_step(versions, "scale", "2.0.0")
    assert (step.function_name, step.version) == ("scale", "2.0.0")
    assert step.parameter_schema["properties"]["x"]["type"] == "number"
    assert resolve_step(versions, "scale", "3.0.0-rc1").version == "3.0.0-rc1"
    with pytest.raises(UsageError, match="several versions") as caught:
        resolve_step(versions, "scale", None)
    message = str(caught.value)
    assert "2.0.0, 1.0.0" in message and "3.0.0-rc1" not in message and "step.version" in message
    with pytest.raises(UsageError, match=r"scale@9\.0\.0 is not registered.*available versions"):
        resolve_step(versions, "scale", "9.0.0")
    with pytest.raises(UsageError, match="no step named 'nothing'"):
        resolve_step(versions, "nothing", None)


def test_resolve_the_only_version(platform):
    assert resolve_step(platform, "add", None).version == "1.0.0"


def test_lost_create_answer_is_uncertain_and_never_resent(jma):
    rule = lambda method, path: "lose-answer" if path.endswith("/RapidSetupJob") else "forward"  # noqa: E731
    with LoopbackProxy(jma.url, rule) as proxy, Platform(proxy.url, None) as flaky:
        step = resolve_step(flaky, "add", "1.0.0")
        with pytest.raises(CreateUncertain):
            flaky.create_job(name="lost", step=step, parameters={"a": 1, "b": 2},
                             tags=["batchrun.batch=lost", "batchrun.key=k1", "batchrun.run=1"])
        assert proxy.count("POST", "/RapidSetupJob") == 1
        [job] = flaky.jobs_with_key("lost", "k1", "1")
        assert job.name == "lost" and job.key == "k1"


def test_refused_create_is_a_plain_platform_error(jma):
    rule = lambda method, path: "refuse" if path.endswith("/RapidSetupJob") else "forward"  # noqa: E731
    with LoopbackProxy(jma.url, rule) as proxy, Platform(proxy.url, None) as refusing:
        step = resolve_step(refusing, "add", "1.0.0")
        with pytest.raises(PlatformError) as caught:
            refusing.create_job(name="no", step=step, parameters={"a": 1, "b": 2}, tags=[])
        assert not isinstance(caught.value, CreateUncertain) and "HTTP 405" in str(caught.value)
        assert proxy.count("POST", "/RapidSetupJob") == 1


def test_reads_retry_transient_failures(jma, platform, submit, write_manifest):
    from batchrun.manifest import expand, load_manifest

    manifest = load_manifest(write_manifest("retried", grid="a: [1, 2]"))
    submit(platform, manifest, expand(manifest, step_version="1.0.0"))
    lost: list[str] = []

    def twice_lost(method: str, path: str) -> str:
        if method == "GET" and "/api/JobsRoot/Query" in path and len(lost) < 2:
            lost.append(path)
            return "lose-answer"
        return "forward"

    with LoopbackProxy(jma.url, twice_lost) as proxy, Platform(proxy.url, None) as flaky:
        jobs = flaky.owned_jobs("retried")
        assert len(jobs) == 2 and {job.state for job in jobs} == {"Completed"}
        assert proxy.count("GET", "/api/JobsRoot/Query") == 3


def test_invalid_parameters_are_refused_not_retried(platform):
    step = resolve_step(platform, "add", "1.0.0")
    with pytest.raises(PlatformError, match="HTTP 400") as caught:
        platform.create_job(name="bad", step=step, parameters={"a": "x"}, tags=[])
    assert not isinstance(caught.value, CreateUncertain)


def test_start_and_delete_are_safe_to_repeat(platform):
    step = resolve_step(platform, "add", "1.0.0")
    tags = ["batchrun.batch=repeat", "batchrun.key=r", "batchrun.run=1", "batchrun.attempt=2"]
    url = platform.create_job(name="later", step=step, parameters={"a": 1, "b": 1}, tags=tags, start=False)
    [job] = platform.owned_jobs("repeat")
    assert (job.url, job.state, job.attempt, job.finished) == (url, "ReadyForProcessing", 2, False)
    platform.start_job(url)
    platform.start_job(url)
    wait_until(lambda: platform.owned_jobs("repeat")[0].finished, timeout=30, what="the job to finish")
    [done] = platform.owned_jobs("repeat", run="1")
    assert done.state == "Completed" and json.loads(done.result) == {"sum": 2, "product": 1}
    assert done.started_at is not None and done.completed_at >= done.started_at
    for _ in range(2):
        delete_job(platform, url, delete_output_workdata=True, delete_input_workdata=True,
                   delete_subjobs_with_data=True)
    assert platform.owned_jobs("repeat") == []


def test_one_event_stream_wakes_on_job_changes(platform):
    step = resolve_step(platform, "add", "1.0.0")
    with platform.job_events() as events:
        url = platform.create_job(name="evented", step=step, parameters={"a": 2, "b": 3},
                                  tags=["batchrun.batch=evented"])
        seen: set[str] = set()
        wait_until(lambda: url in seen.union(events.wait(0.5)) and seen.add(url) is None,
                   timeout=30, what="an event for the new job")
        assert events.connects == 1
    assert events.wait(0) == set()


def test_retry_after_is_read_as_seconds_or_a_date():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_owned_jobs_follow_pages_beyond_one_thousand(jma, platform):
    from concurrent.futures import ThreadPoolExecutor

    step = resolve_step(platform, "add", "1.0.0")
    total = PAGE_SIZE + 5

    def create(number: int) -> str:
        return platform.create_job(name=f"paged-{number}", step=step, parameters={"a": number, "b": 0},
                                   tags=["batchrun.batch=paged", f"batchrun.key=k{number}"], start=False)

    with ThreadPoolExecutor(max_workers=4) as pool:
        urls = set(pool.map(create, range(total)))
    with LoopbackProxy(jma.url) as proxy, Platform(proxy.url, None) as counted:
        proxy.requests.clear()
        jobs = counted.owned_jobs("paged")
    assert {job.url.replace(proxy.url, jma.url) for job in jobs} == urls
    assert len(jobs) == total
    assert proxy.count("POST", "/api/JobsRoot/Query") == 1
    assert proxy.count("GET", "/api/JobsRoot/Query") == 2


@pytest.mark.filterwarnings("ignore:Expected type:UserWarning")
def test_an_endpoint_that_is_no_jma_is_named_in_the_error(jma, tmp_path):
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    with pytest.raises(PlatformError, match="HTTP 404"):
        Platform(jma.url + "/wrong/prefix", None)
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "EntryPoint").write_text("<html>hello</html>")
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as web:
        threading.Thread(target=web.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{web.server_address[1]}"
        with pytest.raises(PlatformError, match="is this a PineXQ Job-Management API") as caught:
            Platform(url, None)
        web.shutdown()
    assert url in str(caught.value)
