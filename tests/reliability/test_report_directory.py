"""A report folder that cannot take the report — a file in its way, a read-only file
system, a full disk — fails apply with a message naming the folder and the OS error; the
results stay on the platform and ``batchrun report`` writes them once the folder is fixed.

Tests run as root, for whom a chmod'ed folder is still writable, so the faults are real
ones root cannot write through either: a regular file where the folder should be, a
folder under /proc, and a file-size limit (RLIMIT_FSIZE, the kernel's "File too large",
as a full disk would refuse the write) on the apply process.
"""

from __future__ import annotations

import resource
import signal
from pathlib import Path

import pytest

from tests.support import read_report, run_batchrun

REPORT_LIMIT_BYTES = 64  # smaller than any report file, larger than the apply lock file


def assert_unwritable_report_message(stderr: str, folder: str, reason: str, manifest: Path) -> None:
    text = " ".join(stderr.split())
    assert f"cannot write the report into {folder}: {reason}" in text
    assert "The results are safe on the platform" in text
    assert f"batchrun report {manifest}" in text


def write_the_report_later(cli, jma, path: Path, batch: str) -> None:
    """Once the folder is fixed, ``batchrun report`` writes what apply could not."""
    later = cli(["report", str(path), "--endpoint", jma.url, "--set", "report.dir=reports"])
    assert later.exit_code == 0, later.stderr
    report = read_report(path, batch)
    assert report["summary"] == {"Completed": 2}


@pytest.mark.parametrize(
    ("batch", "where", "reason"),
    [("file-in-the-way", "in-the-way", "File exists"),
     ("under-proc", "/proc/batchrun-reports", "No such file or directory")],
)
def test_an_unwritable_report_folder_fails_clearly_and_report_writes_it_later(
    cli, jma, platform, write_manifest, batch, where, reason
):
    path = write_manifest(batch, grid="a: [1, 2]")
    folder = path.parent / where
    if where == "in-the-way":
        folder.write_text("a file, not a folder", encoding="utf-8")

    result = cli(["apply", str(path), "--endpoint", jma.url, "--set", f"report.dir={where}"])

    assert result.exit_code == 1
    assert_unwritable_report_message(result.stderr, str(folder), reason, path)
    assert {job.state for job in platform.owned_jobs(batch)} == {"Completed"}
    write_the_report_later(cli, jma, path, batch)


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
    resource.setrlimit(resource.RLIMIT_FSIZE, (REPORT_LIMIT_BYTES, REPORT_LIMIT_BYTES))


def test_a_full_disk_fails_clearly_and_report_writes_it_later(cli, jma, platform, write_manifest):
    path = write_manifest("disk-full", grid="a: [1, 2]")
    apply = run_batchrun("apply", str(path), "--endpoint", jma.url, preexec_fn=_limit_file_size)

    assert apply.returncode == 1, apply.stderr
    assert_unwritable_report_message(apply.stderr, str(path.parent / "reports"), "File too large", path)
    assert list((path.parent / "reports").iterdir()) == [], "no half-written report is left behind"
    assert {job.state for job in platform.owned_jobs("disk-full")} == {"Completed"}
    write_the_report_later(cli, jma, path, "disk-full")
