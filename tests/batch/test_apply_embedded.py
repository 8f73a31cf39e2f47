"""apply with no endpoint: the embedded local JMA, its database in .batchrun/ next to the
manifest, so a second command sees the jobs of the first (the ``make demo`` path)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from tests.support import wait_until

ROOT = Path(__file__).resolve().parents[2]
STEPS = ROOT / "tests" / "steps"
BATCHRUN = str(Path(sys.executable).parent / "batchrun")


def batchrun(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it, with no endpoint configured anywhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINEXQ_")}
    return subprocess.run([BATCHRUN, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_demo_runs_the_quickstart_then_finds_nothing_to_do(tmp_path):
    shutil.copytree(ROOT / "manifests", tmp_path / "manifests")
    first = batchrun("apply", "manifests/quickstart.yaml", "--yes", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "6 create" in first.stderr
    assert "power-" in first.stdout and "Completed" in first.stdout
    assert (tmp_path / "manifests" / ".batchrun").is_dir()

    second = batchrun("apply", "manifests/quickstart.yaml", "--yes", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "6 unchanged" in second.stderr and "create" not in second.stderr
    plan = batchrun("plan", "manifests/quickstart.yaml", "-o", "json", cwd=tmp_path)
    summary = json.loads(plan.stdout)["summary"]
    assert summary["unchanged"] == 6 and sum(summary.values()) == 6


def divide_manifest(folder: Path, *, version: str, steps: str) -> Path:
    path = folder / "divide.yaml"
    path.write_text(
        "version: 1\n"
        "batch: divide\n"
        f'step: {{function: divide, version: "{version}"}}\n'
        f"local: {{steps: [{STEPS / steps}], workers: 2}}\n"
        "parameters: {a: 6}\n"
        "grid: {b: [1, 0, 2]}\n"
        'name: "six-by-{{ b }}"\n',
        encoding="utf-8",
    )
    return path


def test_a_failing_point_then_rerun_after_fixing_the_step(tmp_path):
    path = divide_manifest(tmp_path, version="1.0.0", steps="apply_divide_v1.py")
    broken = batchrun("apply", str(path), cwd=tmp_path)
    assert broken.returncode == 1
    rows = json.loads((tmp_path / "reports" / "divide.json").read_text())["jobs"]
    assert [row["state"] for row in rows] == ["Completed", "Error", "Completed"]
    assert "ZeroDivisionError" in rows[1]["error"]

    path = divide_manifest(tmp_path, version="1.1.0", steps="apply_divide_v2.py")
    fixed = batchrun("apply", str(path), "--rerun-failed", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    rows = json.loads((tmp_path / "reports" / "divide.json").read_text())["jobs"]
    assert [row["state"] for row in rows] == ["Completed"] * 3
    assert [row["result"] for row in rows] == [6, 0, 3]
    assert json.loads((tmp_path / "reports" / "divide.json").read_text())["step"]["version"] == "1.1.0"


def interrupt_a_nap_sweep(tmp_path: Path, signal_number: int) -> tuple[Path, int, str]:
    """Start an embedded apply of 20 naps, send it ``signal_number`` once the first nap is
    done; return the manifest, the exit code and stderr."""
    naps = tmp_path / "naps"
    naps.mkdir()
    path = tmp_path / "naps.yaml"
    path.write_text(
        "version: 1\nbatch: naps\nstep: {function: nap, version: \"1.0.0\"}\n"
        f"local: {{steps: [{STEPS / 'apply_steps.py'}], workers: 2}}\n"
        f"parameters: {{folder: '{naps}'}}\n"
        "grid: {ms: {range: [200, 220]}}\nname: \"nap-{{ ms }}\"\n"
        "execution: {max_running: 4}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINEXQ_")}
    with open(tmp_path / "err.txt", "w") as err:
        apply = subprocess.Popen([BATCHRUN, "apply", str(path)], cwd=tmp_path, env=env,
                                 stdout=subprocess.DEVNULL, stderr=err)
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
    again = batchrun("apply", str(path), cwd=cwd)
    assert again.returncode == 0, again.stderr
    status = batchrun("status", str(path), "-o", "json", cwd=cwd)
    assert json.loads(status.stdout)["summary"] == {"Completed": 20}
    plan = json.loads(batchrun("plan", str(path), "-o", "json", cwd=cwd).stdout)
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
