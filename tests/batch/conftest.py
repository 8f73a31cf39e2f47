"""Shared fixtures of the batch tests: specs and jobs as data, a real local JMA, the CLI.

Helper callables are handed out as fixtures so test modules need not import conftest.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from batchrun.client import RemoteJob
from batchrun.identity import JobSpec, job_key, ownership_tags, spec_hash
from batchrun.steps import resolve_step
from tests.serving import ServeProcess
from tests.support import BATCHRUN, STEPS, wait_until

SERVE_KEY = "served-secret-key"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def spec(index: int, parameters: dict[str, Any], *, function: str = "add", version: str = "1.0.0",
         revision: Any = None, name: str | None = None) -> JobSpec:
    key = job_key(function, version, parameters)
    return JobSpec(
        index=index,
        name=name or f"job-{index}",
        function=function,
        version=version,
        parameters=parameters,
        tags=(),
        key=key,
        spec=spec_hash(key, revision),
    )


def remote(of: JobSpec | None, state: str, *, batch: str = "b", run: str = "1", attempt: int = 1,
           result: str | None = None, error: str | None = None, minutes: int = 0,
           spec_tag: str | None = None, key: str | None = None) -> RemoteJob:
    """A job as a query page would show it (times relative to a fixed epoch)."""
    job_key_tag = key if key is not None else (of.key if of is not None else "gone")
    tags = ownership_tags(batch, job_key_tag, spec_tag or (of.spec if of else "x"), run, attempt)
    created = EPOCH + timedelta(minutes=minutes)
    started = created + timedelta(seconds=1) if state not in ("Created", "ReadyForProcessing") else None
    finished = state in ("Completed", "Error", "Canceled", "DataMissing")
    return RemoteJob(
        url=f"http://jma.test/api/Job/{job_key_tag}-{attempt}-{minutes}",
        name=of.name if of is not None else "old",
        state=state,
        other_tags=(tags[0], *tags[3:]),  # all but the key and spec tags
        result=result,
        error=error,
        created_at=created,
        started_at=started,
        completed_at=started + timedelta(seconds=2) if finished and started else None,
        key=job_key_tag,
        spec=spec_tag or (of.spec if of else "x"),
        run=run,
        attempt=attempt,
    )


@pytest.fixture
def make_spec() -> Callable[..., JobSpec]:
    return spec


@pytest.fixture
def make_job() -> Callable[..., RemoteJob]:
    return remote


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def invoke(args: Sequence[str], *, env: dict[str, str] | None = None, input: str | None = None) -> CliResult:
    """Run ``batchrun ARGS`` in-process through the command line's ``main`` (exit-code mapping
    included); the console script around it runs in the subprocess tests."""
    from batchrun.cli.main import main

    runner = CliRunner()
    with runner.isolation(input=input, env=env) as (out, err, _):
        saved = sys.argv
        sys.argv = ["batchrun", *args]
        code = 0
        try:
            main()
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        finally:
            sys.argv = saved
        return CliResult(code, out.getvalue().decode(), err.getvalue().decode())


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    return invoke


@pytest.fixture(scope="session")
def steps_path() -> Path:
    """The test steps module (echo, add, fail, sleep_ms, ...)."""
    return STEPS


@pytest.fixture(scope="session")
def batchrun_exe() -> str:
    """The installed ``batchrun`` console script, for tests that need a real process."""
    return BATCHRUN


@pytest.fixture(scope="module")
def jma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real local JMA with the test steps, shared by the tests of one module."""
    from batchrun.localjma import LocalJMA

    database = tmp_path_factory.mktemp("jma") / "jma.sqlite3"
    with LocalJMA(database, steps=[str(STEPS)], workers=2) as server:
        yield server


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """A standalone ``batchrun serve`` process that demands an API key (given by environment);
    its stderr is in ``jma.sqlite3.serve.log`` next to its database."""
    with ServeProcess(tmp_path_factory.mktemp("served") / "jma.sqlite3", workers=1, api_key=SERVE_KEY) as server:
        yield server


def manifest_text(batch: str, *, function: str = "add", version: str | None = "1.0.0",
                  grid: str = "a: [1, 2, 3]", parameters: str = "{b: 10}", extra: str = "") -> str:
    step = f"{{function: {function}" + (f", version: \"{version}\"}}" if version else "}")
    return (
        "version: 1\n"
        f"batch: {batch}\n"
        f"step: {step}\n"
        f"local: {{steps: [{STEPS}], workers: 2}}\n"
        f"parameters: {parameters}\n"
        "grid:\n"
        + "".join(f"  {line}\n" for line in grid.splitlines())
        + 'name: "{{ batch }}-{{ index }}"\n'
        + extra
    )


@pytest.fixture
def write_manifest(tmp_path: Path) -> Callable[..., Path]:
    """Write a manifest for the ``add`` test step into a fresh folder; return its path."""

    def write(batch: str = "sweep", filename: str = "sweep.yaml", **fields: Any) -> Path:
        path = tmp_path / filename
        path.write_text(manifest_text(batch, **fields), encoding="utf-8")
        return path

    return write


@pytest.fixture
def platform(jma: Any) -> Iterator[Any]:
    from batchrun.client import Platform

    with Platform(jma.url, None) as connection:
        yield connection


def submit_points(platform: Any, manifest: Any, specs: Sequence[JobSpec], *, run: str = "1",
                  attempt: int = 1, wait: bool = True) -> list[str]:
    """Create (and start) one tagged job per spec, as apply would; optionally wait for them."""
    step = resolve_step(platform, manifest.step.function, manifest.step.version)
    urls = [
        platform.create_job(
            name=spec.name, step=step, parameters=spec.parameters,
            tags=[*spec.tags, *ownership_tags(manifest.batch, spec.key, spec.spec, run, attempt)],
        )
        for spec in specs
    ]
    if wait:
        def finished() -> bool:
            jobs = {job.url: job for job in platform.owned_jobs(manifest.batch, run=run)}
            return all(url in jobs and jobs[url].finished for url in urls)

        wait_until(finished, timeout=60, what=f"{len(urls)} jobs of {manifest.batch} to finish")
    return urls


@pytest.fixture
def submit() -> Callable[..., list[str]]:
    return submit_points
