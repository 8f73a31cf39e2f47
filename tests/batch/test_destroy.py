"""``batchrun destroy``: asks once, refuses when it cannot ask, deletes what the batch owns."""

from __future__ import annotations

import os
import subprocess

from batchrun.identity import ownership_tags
from batchrun.manifest import expand, load_manifest
from batchrun.steps import resolve_step
from tests.support import wait_until


def test_refuses_without_yes_when_not_interactive(cli, jma, platform, submit, write_manifest):
    path = write_manifest("keep", grid="a: [1, 2]")
    manifest = load_manifest(path)
    submit(platform, manifest, expand(manifest, step_version="1.0.0"))
    result = cli(["destroy", str(path), "--endpoint", jma.url])
    assert result.exit_code == 1
    assert "pass --yes" in result.stderr and "Nothing was sent" in result.stderr
    assert len(platform.owned_jobs("keep")) == 2


def test_yes_deletes_every_run_and_converges(cli, jma, platform, submit, write_manifest):
    path = write_manifest("gone", grid="a: [1, 2]")
    manifest = load_manifest(path)
    specs = expand(manifest, step_version="1.0.0")
    submit(platform, manifest, specs)
    submit(platform, manifest, specs[:1], run="2")
    only_two = cli(["destroy", str(path), "--endpoint", jma.url, "--run", "2", "--yes"])
    assert only_two.exit_code == 0, only_two.stderr
    assert "deleted 1 of 1 jobs of run 2" in only_two.stderr
    assert {job.run for job in platform.owned_jobs("gone")} == {"1"}
    result = cli(["destroy", str(path), "--endpoint", jma.url, "-y"])
    assert result.exit_code == 0, result.stderr
    assert "deleted 2 of 2 jobs" in result.stderr
    assert platform.owned_jobs("gone") == []
    again = cli(["destroy", str(path), "--endpoint", jma.url, "-y"])
    assert again.exit_code == 0 and "nothing to delete" in again.stderr


def test_running_jobs_are_reported_and_the_rest_deleted(cli, jma, platform, submit, write_manifest):
    path = write_manifest("busy", function="sleep_ms", grid="ms: [1]", parameters="{}")
    manifest = load_manifest(path)
    [point] = expand(manifest, step_version="1.0.0")
    submit(platform, manifest, [point])
    step = resolve_step(platform, "sleep_ms", "1.0.0")
    slow = platform.create_job(name="slow", step=step, parameters={"ms": 4000},
                               tags=ownership_tags("busy", "other", "x", "1", 1))
    wait_until(lambda: any(j.url == slow and j.state == "Processing" for j in platform.owned_jobs("busy")),
               timeout=30, what="the slow job to run")
    result = cli(["destroy", str(path), "--endpoint", jma.url, "--yes"])
    assert result.exit_code == 1
    assert "cannot be deleted while it is Processing" in result.stderr
    assert "deleted 1 of 2 jobs" in result.stderr
    assert [job.url for job in platform.owned_jobs("busy")] == [slow]


def test_asks_once_on_a_terminal(jma, platform, submit, batchrun_exe, write_manifest):
    path = write_manifest("asked", grid="a: [1, 2, 3]")
    manifest = load_manifest(path)
    submit(platform, manifest, expand(manifest, step_version="1.0.0"))
    primary, secondary = os.openpty()
    try:
        process = subprocess.Popen(
            [batchrun_exe, "destroy", str(path), "--endpoint", jma.url],
            stdin=secondary, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        os.write(primary, b"y\n")
        _, stderr = process.communicate(timeout=60)
    finally:
        os.close(primary)
        os.close(secondary)
    assert process.returncode == 0, stderr
    assert stderr.count("Delete 3 jobs of batch 'asked'") == 1
    assert platform.owned_jobs("asked") == []
