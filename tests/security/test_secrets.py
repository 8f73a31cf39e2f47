"""API keys never leak: not in stdout, stderr, logs, reports, files, exceptions or process titles.

A full run with real processes: ``batchrun serve --api-key`` (debug logging), ``batchrun
apply --api-key`` against it, ``plan``/``status``/``report`` with the key in the
environment, runs that fail (wrong key, unreachable endpoint, credentials in a
pinexq.toml endpoint URL). Then every output and every file the run left behind is
searched for the key, and the command lines of the running processes are read from /proc.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from batchrun.client import Platform
from batchrun.connection import Target
from batchrun.errors import PlatformError
from batchrun.proctitle import MASK, secret_values
from tests.serving import ServeProcess
from tests.support import BATCHRUN, run_batchrun, wait_until

SERVE_KEY = "serve-secret-6b0c93e1f2"
CLIENT_KEY = SERVE_KEY  # what clients send must match; a separate name for readability
WRONG_KEY = "wrong-secret-51d0aa77c4"
URL_SECRET = "url-secret-93f1c0e7aa"
SECRETS = (SERVE_KEY, WRONG_KEY, URL_SECRET)


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").replace(b"\0", b" ").decode()


def children(pid: int) -> list[int]:
    """Direct child processes (the local JMA's workers), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[ServeProcess]:
    """``batchrun serve --api-key`` with debug logging, its stderr in ``serve.stderr``."""
    args = ["--log-level", "debug", "--api-key", SERVE_KEY]
    with ServeProcess(tmp_path / "jma.sqlite3", tmp_path / "serve.stderr", args=args) as server:
        yield server


def _manifest(folder: Path) -> Path:
    path = folder / "sweep.yaml"
    path.write_text(
        'version: 1\nbatch: secrets\nstep: {function: sleep_ms, version: "1.0.0"}\n'
        "grid: {ms: [800, 801, 802, 803]}\nreport: {formats: [json, csv, md, html]}\n",
        encoding="utf-8",
    )
    return path


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_batchrun(*args, env=env, timeout=120)


def _every_file(folder: Path) -> Iterator[tuple[Path, bytes]]:
    for path in folder.rglob("*"):
        if path.is_file():
            yield path, path.read_bytes()


@pytest.mark.slow
def test_a_full_run_never_shows_the_key(serve: ServeProcess, tmp_path: Path) -> None:
    outputs: dict[str, str] = {}
    titles: dict[str, str] = {"serve": cmdline(serve.pid)}
    workers = wait_until(lambda: len(found := children(serve.pid)) >= serve.workers and found, timeout=30,
                         what="the server's worker processes")  # each worker's title is read, not none
    for worker in workers:
        titles[f"worker {worker}"] = cmdline(worker)
    manifest = _manifest(tmp_path)

    apply = subprocess.Popen(
        [BATCHRUN, "apply", str(manifest), "--endpoint", serve.url, "--api-key", CLIENT_KEY, "-o", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    with Platform(serve.url, CLIENT_KEY) as platform:
        wait_until(lambda: platform.owned_jobs("secrets") or apply.poll() is not None, timeout=60,
                   what="apply to create its first job")
    assert apply.poll() is None, "apply ended before its title could be read"
    titles["apply"] = cmdline(apply.pid)
    outputs["apply stdout"], outputs["apply stderr"] = apply.communicate(timeout=120)
    assert apply.returncode == 0, outputs["apply stderr"]

    by_env = {"PINEXQ_ENDPOINT": serve.url, "PINEXQ_API_KEY": CLIENT_KEY}
    for command in (["plan", str(manifest), "-o", "json"], ["status", str(manifest), "-o", "json"],
                    ["report", str(manifest)], ["diff", str(manifest), "--run", "1", "--run", "1", "-o", "json"],
                    ["events", "-o", "json"]):
        done = _run(command, env=by_env)
        assert done.returncode == 0, done.stderr
        outputs[f"{command[0]} stdout"], outputs[f"{command[0]} stderr"] = done.stdout, done.stderr
    wrong = _run(["plan", str(manifest), "--endpoint", serve.url, "--api-key", WRONG_KEY])
    unreachable = _run(["status", str(manifest), "--endpoint", "http://127.0.0.1:9", "--api-key", CLIENT_KEY])
    (tmp_path / "pinexq.toml").write_text(
        f'[project]\npinexq_endpoint = "http://batchrun:{URL_SECRET}@127.0.0.1:9"\n', encoding="utf-8")
    in_toml = _run(["plan", str(manifest)], env={"PINEXQ_API_KEY": CLIENT_KEY})
    for name, done in (("wrong key", wrong), ("unreachable", unreachable), ("pinexq.toml", in_toml)):
        assert done.returncode == 1, done.stderr
        outputs[f"{name} stdout"], outputs[f"{name} stderr"] = done.stdout, done.stderr
    assert "401" in wrong.stderr and "cannot reach the platform at http://127.0.0.1:9 " in in_toml.stderr

    assert serve.stop() == 0
    outputs["serve stdout"] = serve.output()

    assert [job["state"] for job in json.loads(outputs["apply stdout"])["jobs"]] == ["Completed"] * 4
    for name, title in titles.items():
        assert SERVE_KEY not in title, name
    assert f"--api-key {MASK}" in titles["serve"] and f"--api-key {MASK}" in titles["apply"]
    for name, text in outputs.items():
        for secret in SECRETS:
            assert secret not in text, f"{name} shows a secret:\n{text}"
    files = dict(_every_file(tmp_path))
    assert any(path.suffix == ".html" for path in files) and serve.log in files
    for path, content in files.items():
        for secret in SECRETS:
            assert secret.encode() not in content or path.name == "pinexq.toml", f"{path} holds a secret"


@pytest.mark.parametrize("by_flag", [True, False], ids=["flag", "environment"])
def test_serve_never_shows_the_key_in_its_title(by_flag: bool, tmp_path: Path) -> None:
    """A flag is masked once batchrun starts; the environment variable never reaches the title at all."""
    key = ["--api-key", SERVE_KEY] if by_flag else []
    server = ServeProcess(tmp_path / "jma.sqlite3", workers=0, steps=(), args=key, api_key=None if by_flag else SERVE_KEY)
    with server:
        title = cmdline(server.pid)
    assert SERVE_KEY not in title + server.url + server.output() + server.log_text()
    assert title.endswith(f"--api-key {MASK}" if by_flag else "--workers 0")


@pytest.mark.parametrize(
    ("argv", "values"),
    [
        (["serve", "--api-key", "k1"], ["k1"]),
        (["apply", "m.yaml", "--api-key=k2", "--endpoint", "http://h"], ["k2"]),
        (["plan", "m.yaml", "--api-key"], []),
        (["plan", "m.yaml", "--api-key="], []),
        (["plan", "m.yaml", "--set", "name=--api-key"], []),
        (["plan", "--api-key", "a", "--api-key", "b"], ["a", "b"]),
    ],
)
def test_secret_values_are_found_in_every_spelling(argv: list[str], values: list[str]) -> None:
    assert secret_values(argv) == values


def test_exceptions_and_reprs_never_hold_the_key() -> None:
    with pytest.raises(PlatformError) as refused:
        Platform(f"http://batchrun:{URL_SECRET}@127.0.0.1:9", SERVE_KEY, attempts=1)
    chain: list[BaseException] = []
    error: BaseException | None = refused.value
    while error is not None and len(chain) < 10:
        chain.append(error)
        error = error.__cause__ or error.__context__
    shown = " ".join(f"{item!s} {item!r}" for item in chain)
    shown += repr(Target("http://h", SERVE_KEY, "--endpoint"))
    for secret in (SERVE_KEY, URL_SECRET):
        assert secret not in shown
    assert "http://127.0.0.1:9" in str(refused.value)
