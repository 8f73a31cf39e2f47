"""The validate, expand and schema commands, run as a user runs them."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from batchrun.cli.aligned import SAMPLE_ROWS, write_aligned
from batchrun.cli.main import cli
from batchrun.manifest import expand, load_manifest
from tests.support import ROOT, run_batchrun

SWEEP = """version: 1
batch: demo
step: {function: train, version: "1.0.0"}
parameters: {epochs: 3}
grid:
  lr: [0.1, 0.01]
  depth: {range: [1, 3]}
name: "demo-{{ lr }}-{{ depth }}"
tags: [team=ml, "lr={{ lr }}"]
"""


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP)
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_batchrun(*args, timeout=60)


def test_validate_prints_a_one_line_summary(sweep: Path) -> None:
    done = _run("validate", str(sweep))
    assert (done.returncode, done.stdout, done.stderr) == (
        0, "sweep.yaml: valid, 4 jobs of train@1.0.0 in batch demo\n", "")


def test_validate_reports_every_error_with_exit_code_2_and_no_output(sweep: Path) -> None:
    sweep.write_text(SWEEP.replace("[0.1, 0.01]", "[0.1, 0.1]") + "execution: {submit: 0}\n")
    done = _run("validate", str(sweep))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [
        f"batchrun: {sweep}:6:7: grid.lr: value 0.1 is listed twice (positions 0 and 1); remove one",
        f"{sweep}:10:21: execution.submit: Input should be greater than or equal to 1, got 0",
    ]


def test_validate_accepts_overrides_and_validates_them(sweep: Path) -> None:
    done = _run("validate", str(sweep), "--set", "grid.lr=[0.5, 0.6, 0.7]", "--set", "execution.retries=-2")
    assert done.returncode == 2
    assert done.stderr == ("batchrun: --set execution.retries=-2: execution.retries: Input should be greater than "
                           "or equal to 0, got -2\n")


def test_a_missing_manifest_exits_2(tmp_path: Path) -> None:
    done = _run("expand", str(tmp_path / "nope.yaml"))
    assert (done.returncode, done.stderr) == (2, f"batchrun: {tmp_path / 'nope.yaml'}: file not found; check the path\n")


def test_python_dash_m_batchrun_is_the_same_command_line(sweep: Path) -> None:
    script = _run("validate", str(sweep), "--set", "execution.retries=-2")
    module = subprocess.run([sys.executable, "-m", "batchrun", "validate", str(sweep), "--set",
                             "execution.retries=-2"], capture_output=True, text=True, timeout=60)
    assert (module.returncode, module.stdout, module.stderr) == (script.returncode, script.stdout, script.stderr)
    assert script.returncode == 2 and "execution.retries" in script.stderr


def test_expand_json_lists_the_resolved_specs(sweep: Path) -> None:
    result = CliRunner().invoke(cli, ["expand", str(sweep), "-o", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    jobs = expand(load_manifest(sweep))
    assert (document["format_version"], document["batch"], document["count"]) == (1, "demo", 4)
    assert document["step"] == {"function": "train", "version": "1.0.0"}
    assert document["jobs"] == [
        {"index": job.index, "name": job.name, "key": job.key, "spec": job.spec, "version": "1.0.0",
         "parameters": job.parameters, "tags": list(job.tags)}
        for job in jobs
    ]


def test_expand_csv_has_one_column_per_parameter(sweep: Path) -> None:
    result = CliRunner().invoke(cli, ["expand", str(sweep), "-o", "csv", "--set", "grid.depth=[7]"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    jobs = expand(load_manifest(sweep, ["grid.depth=[7]"]))
    assert rows[0] == ["index", "name", "key", "spec", "version", "lr", "depth", "epochs", "tags"]
    assert rows[1:] == [[str(job.index), job.name, job.key, job.spec, "1.0.0", str(job.parameters["lr"]), "7", "3",
                         ";".join(job.tags)] for job in jobs]


def test_expand_table_marks_unresolved_versions(sweep: Path) -> None:
    result = CliRunner().invoke(cli, ["expand", str(sweep), "--set", "step.version=null"])
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["#", "name", "key*", "parameters", "tags"]
    assert rows[0].split() == ["0", "demo-0.1-1", expand(load_manifest(sweep, ["step.version=null"]))[0].key,
                               "lr=0.1", "depth=1", "team=ml", "lr=0.1"]
    assert "keys use version '*' until `batchrun plan` resolves it" in result.stderr
    assert "fixed parameters: epochs=3" in result.stderr


def test_schema_prints_the_committed_schema() -> None:
    committed = ROOT / "schemas" / "manifest.schema.json"
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert result.stdout == committed.read_text(), "schemas/manifest.schema.json is stale: run `make schema`"


def test_expand_writes_jobs_as_they_come_and_a_late_problem_voids_them_with_exit_2(sweep: Path) -> None:
    late_duplicate = SWEEP.replace("  depth: {range: [1, 3]}\n", "  depth: {range: [1, 3]}\n  include: [{lr: 0.1, depth: 1}]\n")
    sweep.write_text(late_duplicate)
    done = _run("expand", str(sweep), "-o", "csv")
    assert done.returncode == 2
    assert "duplicate point: job 4 (grid.include[0], line 8) has the same parameters as job 0" in done.stderr
    assert len(done.stdout.splitlines()) == 1 + 4  # the header and the product's points, not the duplicate


def test_expand_json_streams_a_valid_document_with_the_count_last(sweep: Path) -> None:
    result = CliRunner().invoke(cli, ["expand", str(sweep), "-o", "json"])
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)) == ["format_version", "batch", "step", "revision", "jobs", "count"]


def test_expand_table_of_many_rows_takes_its_widths_from_the_first_and_streams_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "wide.yaml"
    path.write_text('version: 1\nbatch: w\nstep: {function: train, version: "1"}\n'
                    'grid: {a: {range: [0, 600]}, b: [s, a-longer-value]}\nname: "w-{{ a }}-{{ b }}"\n')
    result = CliRunner().invoke(cli, ["expand", str(path)])
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert len(rows) == 1200 and not any(line.endswith(" ") for line in rows)
    key_column = {row.index(" " + row.split()[2]) for row in rows[:SAMPLE_ROWS - 1]}  # the header is sampled too
    assert key_column == {header.index(" key")}
    # from job 1000 on the index is one digit wider than any sampled: those rows alone shift
    assert {row.index(" " + row.split()[2]) for row in rows[1000:]} == {header.index(" key") + 1}


def _ljust_rows(rows: list[list[str]]) -> str:
    """The aligned columns as first written: each cell but the last padded with str.ljust."""
    sample = rows[:SAMPLE_ROWS]
    widths = [max(len(row[column]) for row in sample) for column in range(len(rows[0]) - 1)]
    return "".join("  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
                   .rstrip() + "\n" for row in rows)


@given(rows=st.integers(1, 4).flatmap(lambda width: st.lists(
    st.lists(st.text(max_size=6), min_size=width, max_size=width), min_size=1, max_size=6)))
def test_aligned_columns_pad_as_ljust_pads(rows: list[list[str]]) -> None:
    out = io.StringIO()
    assert write_aligned(rows, out) == len(rows)
    assert out.getvalue() == _ljust_rows(rows)
