"""Output on a pipe or in a file stays readable: one line a table row, whatever its width.

Every command runs as the console script in a subprocess with stdout a pipe (as in CI
logs, ``| less`` or ``> out.txt``) on the embedded local JMA of its folder, so a table
row can be found by grepping the full job name. ``COLUMNS`` still sets the width.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
from dataclasses import dataclass
from pathlib import Path

import pytest

from batchrun.plan import varying
from tests.support import BATCHRUN, STEPS, page_data

LONG = "a-point-whose-name-is-much-longer-than-any-terminal-is-wide-" * 2  # 120 characters
CHILD_SCRUBBED = ("PINEXQ_", "BATCHRUN_", "JMC_")
CHILD_UNSET = ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE")


@dataclass(frozen=True)
class Batch:
    """A manifest in its own folder and the full names of its points."""

    manifest: Path
    names: list[str]


def child_env(**extra: str) -> dict[str, str]:
    """The test's environment with no endpoint, no batchrun settings and no width or colour hints."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(CHILD_SCRUBBED) and name not in CHILD_UNSET
    }
    return {**env, **extra}


def batchrun(batch: Batch, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``batchrun ARGS MANIFEST`` in the manifest's folder, stdout and stderr pipes."""
    return subprocess.run(
        [BATCHRUN, *args, batch.manifest.name], cwd=batch.manifest.parent, env=child_env(**env),
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )


def write_batch(folder: Path, *, function: str, fixed: str, grid: str, count: int) -> Batch:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "long.yaml"
    manifest.write_text(
        "version: 1\n"
        "batch: long\n"
        f'step: {{function: {function}, version: "1.0.0"}}\n'
        f"local: {{steps: [{STEPS}], workers: 2}}\n"
        f"parameters: {fixed}\n"
        f"grid: {grid}\n"
        f'name: "{LONG}{{{{ index }}}}"\n'
        "report: {formats: [json, csv, md, html]}\n",
        encoding="utf-8",
    )
    return Batch(manifest, [f"{LONG}{index}" for index in range(count)])


def adding(folder: Path) -> Batch:
    """Three points of ``add``: ``a`` varies, ``b`` is the same everywhere."""
    return write_batch(folder, function="add", fixed="{b: 10}", grid="{a: [1, 2, 3]}", count=3)


def row_of(stdout: str, name: str) -> str:
    """The one line that holds ``name`` (a row broken over several lines fails here)."""
    lines = [line for line in stdout.splitlines() if name in line]
    assert len(lines) == 1, f"{name!r} is on {len(lines)} lines of:\n{stdout}"
    return lines[0]


@pytest.fixture(scope="module")
def completed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Batch, subprocess.CompletedProcess[str]]:
    """The ``add`` batch applied once, and that apply's result."""
    batch = adding(tmp_path_factory.mktemp("completed"))
    return batch, batchrun(batch, "apply", "--yes")


@pytest.fixture(scope="module")
def failed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Batch, subprocess.CompletedProcess[str]]:
    """Two points of the always-failing step, applied once."""
    batch = write_batch(tmp_path_factory.mktemp("failed"), function="fail", fixed="{}",
                        grid="{message: [first failure, second failure]}", count=2)
    return batch, batchrun(batch, "apply", "--yes")


def test_plan_rows_are_one_line_each_with_the_varying_parameters_only(tmp_path):
    batch = adding(tmp_path)
    plan = batchrun(batch, "plan")
    assert plan.returncode == 0, plan.stderr
    header = row_of(plan.stdout, "action")
    assert "parameters" in header and "reason" in header
    for value, name in zip((1, 2, 3), batch.names, strict=True):
        row = row_of(plan.stdout, name)
        assert row.startswith("+  create") and f"a={value}" in row and "no job for this point yet" in row
    assert "b=" not in plan.stdout  # the same in every point: left to the manifest


def test_plan_explain_shows_every_parameter(tmp_path):
    batch = adding(tmp_path)
    plan = batchrun(batch, "plan", "--explain")
    assert plan.returncode == 0, plan.stderr
    for value, name in zip((1, 2, 3), batch.names, strict=True):
        assert row_of(plan.stdout, name).startswith("+ create")
        assert f'parameters: {{"a": {value}, "b": 10}}' in plan.stdout


def test_plan_honours_columns_on_a_pipe(tmp_path):
    batch = adding(tmp_path)
    plan = batchrun(batch, "plan", "--detailed-exitcode", COLUMNS="60")
    assert plan.returncode == 2, plan.stderr  # changes pending
    assert max(len(line) for line in plan.stdout.splitlines()) <= 60
    assert LONG not in plan.stdout  # folded to fit, as asked
    assert "a=1" in plan.stdout and "b=" not in plan.stdout


def test_plan_of_a_single_point_has_no_parameter_column(tmp_path):
    batch = write_batch(tmp_path, function="add", fixed="{b: 10}", grid="{a: [1]}", count=1)
    plan = batchrun(batch, "plan")
    assert plan.returncode == 0, plan.stderr
    assert "parameters" not in row_of(plan.stdout, "action")
    assert "a=1" not in row_of(plan.stdout, batch.names[0])


def test_plan_of_failed_points_lists_each_on_one_line(failed):
    batch, _ = failed
    plan = batchrun(batch, "plan", "--rerun-failed")
    assert plan.returncode == 0, plan.stderr
    for message, name in zip(("first failure", "second failure"), batch.names, strict=True):
        row = row_of(plan.stdout, name)
        assert "rerun" in row and f"message={message}" in row and "ValueError" in row


def test_apply_results_rows_are_one_line_each(completed):
    batch, apply = completed
    assert apply.returncode == 0, apply.stderr
    for value, name in zip((1, 2, 3), batch.names, strict=True):
        row = row_of(apply.stdout, name)
        assert "Completed" in row and f" {value + 10} " in row  # result.sum


def test_apply_prints_the_report_as_markdown_or_html(completed):
    batch, first = completed
    assert first.returncode == 0, first.stderr
    markdown = batchrun(batch, "apply", "--yes", "-o", "md")
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stdout.startswith("## batchrun report: long\n")
    assert row_of(markdown.stdout, batch.names[0]).startswith(f"| {batch.names[0]} | Completed |")
    page = batchrun(batch, "apply", "--yes", "-o", "html")
    assert page.returncode == 0, page.stderr
    assert page.stdout.startswith("<!doctype html>") and page.stdout.rstrip().endswith("</html>")
    assert [point["name"] for point in page_data(page.stdout)["points"]] == batch.names


def test_report_table_rows_are_one_line_each_and_columns_is_honoured(completed):
    batch, apply = completed
    assert apply.returncode == 0, apply.stderr
    report = batchrun(batch, "report")
    assert report.returncode == 0, report.stderr
    for name in batch.names:
        assert "Completed" in row_of(report.stdout, name)
    narrow = batchrun(batch, "report", COLUMNS="60")
    assert narrow.returncode == 0, narrow.stderr
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 60


def test_report_prints_every_format_it_writes(completed):
    batch, apply = completed
    assert apply.returncode == 0, apply.stderr
    report = batchrun(batch, "report", "-o", "md")
    assert report.returncode == 0, report.stderr
    assert report.stdout.startswith("## batchrun report: long\n")
    assert f"| {batch.names[0]} | Completed | 1 | 10 | 11 | 10 |" in report.stdout
    assert report.stdout == (batch.manifest.parent / "reports" / "long.md").read_text(encoding="utf-8")


def test_report_prints_the_html_page_it_writes_with_its_scripts_inline(completed):
    """The file links the scripts it shares with the batch's other pages; the printed page
    carries them, so it opens wherever it is saved. The data is the same."""
    batch, apply = completed
    assert apply.returncode == 0, apply.stderr
    report = batchrun(batch, "report", "-o", "html")
    assert report.returncode == 0, report.stderr
    written = (batch.manifest.parent / "reports" / "long.html").read_text(encoding="utf-8")
    assert report.stdout.startswith("<!doctype html>\n") and "<script src=" not in report.stdout
    assert '<script src="_assets/report.js"></script>' in written
    printed, filed = page_data(report.stdout), page_data(written)
    assert printed["points"] == filed["points"] and printed["plots"] == filed["plots"]
    assert (printed["points"][0]["name"], printed["points"][0]["state"]) == (batch.names[0], "Completed")


def test_an_unknown_output_is_refused_with_every_choice(completed):
    batch, _ = completed
    refused = batchrun(batch, "report", "-o", "pdf")
    assert refused.returncode == 2
    assert "'table', 'json', 'csv', 'md', 'html'" in refused.stderr and refused.stdout == ""


def test_status_lists_each_failed_point_on_one_line(failed):
    batch, apply = failed
    assert apply.returncode == 1, apply.stderr
    status = batchrun(batch, "status")
    assert status.returncode == 1, status.stderr
    for message, name in zip(("first failure", "second failure"), batch.names, strict=True):
        row = row_of(status.stdout, name)
        assert row.startswith(f"  ✗ {name} (key ") and row.endswith(f"ValueError: {message}")


def test_a_terminal_keeps_the_rich_table_at_its_width(tmp_path):
    """On a terminal (a pseudo-terminal 100 columns wide) rows wrap to fit, as before."""
    batch = adding(tmp_path)
    leader, follower = pty.openpty()
    os.set_blocking(leader, True)
    columns = 100
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen(
        [BATCHRUN, "plan", batch.manifest.name], cwd=tmp_path, env=child_env(TERM="xterm"),
        stdin=subprocess.DEVNULL, stdout=follower, stderr=subprocess.PIPE,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=300) == 0, process.stderr.read() if process.stderr else ""
    text = re.sub(r"\x1b\[[0-9;]*m", "", b"".join(chunks).decode()).replace("\r\n", "\n")
    assert max(len(line) for line in text.splitlines()) <= columns
    assert LONG not in text and "a=1" in text


def test_varying_parameters_are_dotted_paths_that_differ_or_are_missing():
    points = [
        {"lr": 0.1, "opt": {"depth": 3, "beta": 1}, "seed": 1},
        {"lr": 0.1, "opt": {"depth": 4, "beta": 1.0}, "seed": 1, "extra": True},
    ]
    assert varying(points) == ["opt.depth", "extra"]
    assert varying(points[:1]) == [] and varying([]) == []
