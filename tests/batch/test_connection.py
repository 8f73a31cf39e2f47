"""Connection resolution: flags, environment, pinexq.toml, the embedded JMA; API keys."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from batchrun.connection import connect, local_database, resolve_target
from batchrun.errors import UsageError
from batchrun.identity import ownership_tags
from batchrun.manifest import expand, load_manifest
from batchrun.steps import resolve_step
from tests.support import run_batchrun

SECRET = "s3cret-key-do-not-print"


def test_flag_wins_over_pinexq_toml(write_manifest):
    manifest = load_manifest(write_manifest())
    (manifest.base_dir / "pinexq.toml").write_text('[project]\npinexq_endpoint = "http://toml.test"\n')
    assert resolve_target(manifest, "http://flag.test", "k").endpoint == "http://flag.test"
    target = resolve_target(manifest, None, "k")
    assert (target.endpoint, target.api_key) == ("http://toml.test", "k")
    assert target.source.endswith("pinexq.toml")
    assert resolve_target(manifest, "local", "k").endpoint is None


def test_pinexq_toml_in_the_working_directory(write_manifest, tmp_path, monkeypatch):
    manifest = load_manifest(write_manifest())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "pinexq.toml").write_text('[project]\npinexq_endpoint = "http://cwd.test"\n')
    assert resolve_target(manifest, None, None).endpoint is None
    monkeypatch.chdir(elsewhere)
    assert resolve_target(manifest, None, None).endpoint == "http://cwd.test"


def test_broken_pinexq_toml_is_a_usage_error(write_manifest):
    manifest = load_manifest(write_manifest())
    (manifest.base_dir / "pinexq.toml").write_text("[project\n")
    with pytest.raises(UsageError, match=r"pinexq\.toml: not valid TOML"):
        resolve_target(manifest, None, None)
    (manifest.base_dir / "pinexq.toml").write_text("[project]\npinexq_endpoint = 3\n")
    with pytest.raises(UsageError, match="must be a non-empty string"):
        resolve_target(manifest, None, None)


def test_pinexq_toml_endpoint_is_used_by_plan(cli, jma, write_manifest):
    path = write_manifest("tomlplan", grid="a: [1]")
    (path.parent / "pinexq.toml").write_text(f'[project]\npinexq_endpoint = "{jma.url}"\n')
    result = cli(["plan", str(path), "-o", "json"])
    assert result.exit_code == 0, result.stderr
    assert jma.url in result.stdout and "embedded" not in result.stderr


def test_embedded_jma_keeps_jobs_next_to_the_manifest(cli, write_manifest):
    from batchrun.client import Platform
    from batchrun.localjma import LocalJMA

    path = write_manifest("embedded", grid="a: [1, 2]")
    manifest = load_manifest(path)
    specs = expand(manifest, step_version="1.0.0")
    with connect(manifest, None, None, run_jobs=False) as platform:
        step = resolve_step(platform, "add", "1.0.0")
        platform.create_job(name=specs[0].name, step=step, parameters=specs[0].parameters, start=False,
                            tags=ownership_tags("embedded", specs[0].key, specs[0].spec, "1", 1))
    assert local_database(manifest) == path.parent / ".batchrun" / "localjma.sqlite3"
    assert local_database(manifest).is_file()
    result = cli(["plan", str(path), "-o", "json"])
    assert result.exit_code == 0, result.stderr
    assert "using the embedded local JMA" in result.stderr
    assert '"action": "start"' in result.stdout and '"action": "create"' in result.stdout
    # Read-only commands start no workers: the job is still waiting to be started.
    with LocalJMA(local_database(manifest), steps=[], workers=0) as server, Platform(server.url, None) as again:
        assert [job.state for job in again.owned_jobs("embedded")] == ["ReadyForProcessing"]


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory, steps_path: Path) -> Iterator[object]:
    """A local JMA that demands an API key, like a shared server would."""
    from batchrun.localjma import LocalJMA

    database = tmp_path_factory.mktemp("guarded") / "jma.sqlite3"
    with LocalJMA(database, steps=[str(steps_path)], workers=1, api_key=SECRET) as server:
        yield server


@pytest.mark.parametrize("command", [["plan"], ["status"], ["report", "-o", "json"], ["destroy", "--yes"]])
def test_api_key_through_flags_and_environment(cli, guarded, write_manifest, command):
    path = write_manifest("keyed", grid="a: [1]")
    name, *rest = command
    by_flag = cli([name, str(path), "--endpoint", guarded.url, "--api-key", SECRET, *rest])
    by_env = cli([name, str(path), *rest], env={"PINEXQ_ENDPOINT": guarded.url, "PINEXQ_API_KEY": SECRET})
    for result in (by_flag, by_env):
        assert result.exit_code == 0, result.stderr
        assert SECRET not in result.stdout + result.stderr


def test_wrong_or_missing_key_fails_without_echoing_it(cli, guarded, write_manifest):
    path = write_manifest("keyed", grid="a: [1]")
    wrong = cli(["plan", str(path), "--endpoint", guarded.url, "--api-key", "wrong-" + SECRET])
    missing = cli(["status", str(path), "--endpoint", guarded.url])
    for result in (wrong, missing):
        assert result.exit_code == 1
        assert "HTTP 401" in result.stderr and "check the API key" in result.stderr
        assert SECRET not in result.stdout + result.stderr


def test_environment_in_a_real_subprocess(guarded, write_manifest):
    path = write_manifest("keyed-sub", grid="a: [1, 2]")
    env = {"PINEXQ_ENDPOINT": guarded.url, "PINEXQ_API_KEY": SECRET}
    done = run_batchrun("plan", str(path), "--detailed-exitcode", env=env, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "Plan: 2 create" in done.stdout and SECRET not in done.stdout + done.stderr


@pytest.mark.parametrize("command", ["plan", "status", "report", "diff", "destroy", "apply"])
def test_help_groups_the_connection_options(cli, command):
    result = cli([command, "--help"])
    assert result.exit_code == 0
    connection = result.stdout.split("Connection:", 1)[1]
    assert "--endpoint URL" in connection and "PINEXQ_API_KEY" in connection
    assert "[Connection]" not in result.stdout


def test_no_help_shows_a_raw_panel_tag(cli):
    from batchrun.cli.main import cli as group

    assert {"plan", "apply", "status", "serve"} <= set(group.commands)
    for name in group.commands:
        result = cli([name, "--help"])
        assert result.exit_code == 0, name
        assert not re.search(r"^\s+-.*  \[[A-Z][a-z]+\]", result.stdout, re.MULTILINE), (name, result.stdout)


def test_commands_against_a_standalone_serve_with_an_api_key(cli, served, submit, write_manifest):
    from batchrun.client import Platform

    path = write_manifest("served", grid="a: [1, 2]")
    manifest = load_manifest(path)
    with Platform(served.url, served.api_key) as platform:
        submit(platform, manifest, expand(manifest, step_version="1.0.0")[:1])
    flagged = cli(["plan", str(path), "--endpoint", served.url, "--api-key", served.api_key, "-o", "json"])
    assert flagged.exit_code == 0, flagged.stderr
    assert '"unchanged": 1' in flagged.stdout and '"create": 1' in flagged.stdout
    env = {"PINEXQ_ENDPOINT": served.url, "PINEXQ_API_KEY": served.api_key}
    outcomes = {}
    for command in (["plan", "--detailed-exitcode"], ["status"], ["report", "-o", "csv"], ["destroy", "--yes"]):
        done = run_batchrun(command[0], str(path), *command[1:], env=env, timeout=60)
        assert served.api_key not in done.stdout + done.stderr
        outcomes[command[0]] = (done.returncode, done.stdout, done.stderr)
    assert outcomes["plan"][0] == 2 and "Plan: 1 create, 1 unchanged" in outcomes["plan"][1]
    assert outcomes["status"][0] == 0 and "NotCreated" in outcomes["status"][1]
    assert outcomes["report"][0] == 0 and outcomes["report"][1].startswith("index,name,key,state")
    assert outcomes["destroy"][0] == 0 and "deleted 1 of 1 jobs" in outcomes["destroy"][2]
    unkeyed = run_batchrun("status", str(path), env={**env, "PINEXQ_API_KEY": ""}, timeout=60)
    assert unkeyed.returncode == 1 and "HTTP 401" in unkeyed.stderr
