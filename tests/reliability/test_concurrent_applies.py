"""Two applies of one manifest started at the same moment still give one job per point:
the second waits for the first (a lock per platform, batch and run), then plans afresh.
Applies on different machines share no lock; the duplicates they can leave are listed by
``plan`` and deleted by ``apply --prune``. One database serves one local JMA at a time."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from batchrun.manifest import load_manifest
from tests.batch.conftest import spec
from tests.serving import ServeProcess, serve_command
from tests.support import BATCHRUN, run_batchrun

POINTS = 12
GRID = f"a: {{range: [0, {POINTS}]}}"


def together(*commands: list[str], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    """Start the commands at the same moment; wait for all of them."""
    processes = [
        subprocess.Popen([BATCHRUN, *command], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command in commands
    ]
    results = []
    for process, command in zip(processes, commands, strict=True):
        out, err = process.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    return results


def assert_one_waited_for_the_other(first: subprocess.CompletedProcess[str],
                                    second: subprocess.CompletedProcess[str], batch: str) -> None:
    waited = [r for r in (first, second) if f"another batchrun apply of batch {batch} is running" in r.stderr]
    assert len(waited) == 1, first.stderr + second.stderr
    assert re.search(r"is running \(pid \d+\); waiting", waited[0].stderr)
    assert f"{POINTS} unchanged" in waited[0].stderr  # it planned afresh once the first was done


def test_two_applies_against_one_platform_at_once(jma, platform, write_manifest, tmp_path):
    # Jobs that take a while, so the second apply certainly starts while the first runs.
    path = write_manifest("twins", function="sleep_ms", parameters="{}", grid=f"ms: {{range: [400, {400 + POINTS}]}}")
    first, second = together(*[["apply", str(path), "--endpoint", jma.url]] * 2, cwd=tmp_path)
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    jobs = platform.owned_jobs("twins")
    assert len(jobs) == POINTS and len({job.key for job in jobs}) == POINTS
    assert_one_waited_for_the_other(first, second, "twins")


def test_two_embedded_applies_at_once(write_manifest, tmp_path):
    path = write_manifest("embedded-twins", grid=GRID)
    first, second = together(*[["apply", str(path)]] * 2, cwd=tmp_path)
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert_one_waited_for_the_other(first, second, "embedded-twins")
    status = run_batchrun("status", str(path), "-o", "json", cwd=tmp_path, timeout=120)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["summary"] == {"Completed": POINTS}


def test_duplicates_from_uncoordinated_applies_are_listed_and_pruned(
    cli, jma, platform, submit, write_manifest
):
    path = write_manifest("machines", grid="a: [1, 2, 3]")
    manifest = load_manifest(path)
    specs = [spec(i, {"a": a, "b": 10}, name=f"machines-{i}") for i, a in enumerate([1, 2, 3])]
    submit(platform, manifest, specs)
    submit(platform, manifest, specs[:2])  # what a second machine's apply could leave

    planned = cli(["plan", str(path), "--endpoint", jma.url, "-o", "json"])
    assert planned.exit_code == 0, planned.stderr
    plan = json.loads(planned.stdout)
    extra = [e for e in plan["entries"] if e["action"] == "orphaned"]
    assert len(extra) == 2 and all("a duplicate of" in e["reason"] for e in extra)
    assert plan["summary"]["unchanged"] == 3

    pruned = cli(["apply", str(path), "--endpoint", jma.url, "--prune", "--yes"])
    assert pruned.exit_code == 0, pruned.stderr
    jobs = platform.owned_jobs("machines")
    assert len(jobs) == 3 and len({job.key for job in jobs}) == 3


def test_a_second_server_on_one_database_names_the_first(tmp_path):
    with ServeProcess(tmp_path / "jma.sqlite3", tmp_path / "serve.log", workers=0) as first:
        second = subprocess.run(serve_command(first.database, workers=0, steps=()), capture_output=True, text=True,
                                timeout=60)
    assert second.returncode == 1
    assert f"in use by another local JMA (pid {first.pid}" in second.stderr
