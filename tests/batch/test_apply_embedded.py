"""apply with no endpoint: the embedded local JMA, its database in .batchrun/ next to the
manifest, so a second command sees the jobs of the first (the ``make demo`` path)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from pathlib import Path

from tests.support import BATCHRUN, MANIFESTS, STEPS_DIR, read_report, run_batchrun, wait_until

# What `make demo` and any run of the examples leave next to them: never copied into a test.
RUN_STATE = shutil.ignore_patterns(".batchrun", "reports", "__pycache__")


def test_the_demo_runs_the_quickstart_then_finds_nothing_to_do(tmp_path):
    shutil.copytree(MANIFESTS, tmp_path / "manifests", ignore=RUN_STATE)
    assert not (tmp_path / "manifests" / ".batchrun").exists()  # a fresh clone's state: no jobs yet
    first = run_batchrun("apply", "manifests/quickstart.yaml", "--yes", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "6 create" in first.stderr
    assert "power-" in first.stdout and "Completed" in first.stdout
    assert (tmp_path / "manifests" / ".batchrun").is_dir()

    second = run_batchrun("apply", "manifests/quickstart.yaml", "--yes", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "6 unchanged" in second.stderr and "create" not in second.stderr
    plan = run_batchrun("plan", "manifests/quickstart.yaml", "-o", "json", cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    summary = json.loads(plan.stdout)["summary"]
    assert summary["unchanged"] == 6 and sum(summary.values()) == 6


def divide_manifest(folder: Path, *, version: str, steps: str) -> Path:
    path = folder / "divide.yaml"
    path.write_text(
        "version: 1\n"
        "batch: divide\n"
        f'step: {{function: divide, version: "{version}"}}\n'
        f"local: {{steps: [{STEPS_DIR / steps}], workers: 2}}\n"
        "parameters: {a: 6}\n"
        "grid: {b: [1, 0, 2]}\n"
        'name: "six-by-{{ b }}"\n',
        encoding="utf-8",
    )
    return path


def test_a_failing_point_then_rerun_after_fixing_the_step(tmp_path):
    path = divide_manifest(tmp_path, version="1.0.0", steps="apply_divide_v1.py")
    broken = run_batchrun("apply", str(path), cwd=tmp_path)
    assert broken.returncode == 1
    rows = read_report(path, "divide")["jobs"]
    assert [row["state"] for row in rows] == ["Completed", "Error", "Completed"]
    assert "ZeroDivisionError" in rows[1]["error"]

    path = divide_manifest(tmp_path, version="1.1.0", steps="apply_divide_v2.py")
    fixed = run_batchrun("apply", str(path), "--rerun-failed", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    report = read_report(path, "divide")
    rows = report["jobs"]
    assert [row["state"] for row in rows] == ["Completed"] * 3
    assert [row["result"] for row in rows] == [6, 0, 3]
    assert report["step"]["version"] == "1.1.0"


def interrupt_a_nap_sweep(tmp_path: Path, signal_number: int) -> tuple[Path, int, str]:
    """Start an embedded apply of 20 naps, send it ``signal_number`` once the first nap is
    done; return the manifest, the exit code and stderr."""
    naps = tmp_path / "naps"
    naps.mkdir()
    path = tmp_path / "naps.yaml"
    path.write_text(
        "version: 1\nbatch: naps\nstep: {function: nap, version: \"1.0.0\"}\n"
        f"local: {{steps: [{STEPS_DIR / 'apply_steps.py'}], workers: 2}}\n"
        f"parameters: {{folder: '{naps}'}}\n"
        "grid: {ms: {range: [200, 220]}}\nname: \"nap-{{ ms }}\"\n"
        "execution: {max_running: 4}\n",
        encoding="utf-8",
    )
    with open(tmp_path / "err.txt", "w") as err:
        apply = subprocess.Popen([BATCHRUN, "apply", str(path)], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err)
        try:
            wait_until(lambda: any(naps.iterdir()), timeout=120, what="the first finished nap")
            apply.send_signal(signal_number)
            code = apply.wait(timeout=60)
        finally:
            if apply.poll() is None:
                apply.kill()
                apply.wait()
    assert len(list(naps.iterdir())) < 20, "the interrupt must land mid-sweep"
    return path, code, (tmp_path / "err.txt").read_text()


def assert_every_point_completed_once(path: Path, cwd: Path) -> None:
    again = run_batchrun("apply", str(path), cwd=cwd)
    assert again.returncode == 0, again.stderr
    status = run_batchrun("status", str(path), "-o", "json", cwd=cwd)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["summary"] == {"Completed": 20}
    planned = run_batchrun("plan", str(path), "-o", "json", cwd=cwd)
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert [e["job"]["attempt"] for e in plan["entries"]] == [1] * 20  # no extra attempt, no duplicate


def test_ctrl_c_with_the_embedded_jma_then_apply_again_finishes_without_duplicates(tmp_path):
    path, code, stderr = interrupt_a_nap_sweep(tmp_path, signal.SIGINT)
    assert code == 130 and "embedded local JMA stopped with this command" in stderr
    assert_every_point_completed_once(path, tmp_path)


def test_sigkill_of_an_embedded_apply_then_apply_again_completes_each_point_once(tmp_path):
    """Jobs that were processing when the process died are re-queued by the next apply's
    local JMA and complete as the same jobs."""
    path, code, _ = interrupt_a_nap_sweep(tmp_path, signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert_every_point_completed_once(path, tmp_path)
