"""``--set PATH=VALUE`` overrides: applied before validation, errors point at the override."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchrun.manifest import ManifestError, expand, load_manifest
from batchrun.manifest.overrides import parse_path

SWEEP = """version: 1
batch: demo
step: {function: train, version: "1.0.0"}
grid:
  lr: [0.1, 0.01]
  depth: [1, 2]
"""


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP)
    return path


def _error(path: Path, *overrides: str) -> str:
    with pytest.raises(ManifestError) as raised:
        expand(load_manifest(path, overrides))
    return str(raised.value)


@pytest.mark.parametrize(("text", "path"), [("grid.lr", ("grid", "lr")), ("grid[0].lr", ("grid", 0, "lr")),
                                            ("grid.0.lr", ("grid", 0, "lr")), ("execution.max_running",
                                                                               ("execution", "max_running"))])
def test_paths_take_dots_and_indices(text: str, path: tuple[object, ...]) -> None:
    assert parse_path(text) == path


def test_overrides_replace_values_and_create_missing_sections(sweep: Path) -> None:
    manifest = load_manifest(sweep, ["grid.lr=[0.5]", "execution.timeout=5m", "execution.submit=4", "revision=7"])
    assert [job.parameters for job in expand(manifest)] == [{"lr": 0.5, "depth": 1}, {"lr": 0.5, "depth": 2}]
    assert (manifest.execution.timeout, manifest.execution.submit, manifest.revision) == (300.0, 4, 7)


def test_template_overrides_need_no_yaml_quoting(sweep: Path) -> None:
    jobs = expand(load_manifest(sweep, ["name={{ lr }}-{{ depth }}", "tags=[x, 'y={{ depth }}']"]))
    assert [(job.name, job.tags) for job in jobs][:2] == [("0.1-1", ("x", "y=1")), ("0.1-2", ("x", "y=2"))]


def test_overrides_apply_in_order_and_reach_into_lists(sweep: Path) -> None:
    sweep.write_text(SWEEP.replace("grid:\n  lr: [0.1, 0.01]\n  depth: [1, 2]\n", "grid:\n  - {lr: [1]}\n  - {lr: [2]}\n"))
    manifest = load_manifest(sweep, ["grid[1].lr=[3]", "grid.1.lr=[4, 5]", "step.version=null"])
    assert [job.parameters["lr"] for job in expand(manifest)] == [1, 4, 5]
    assert manifest.step.version is None


def test_an_invalid_override_is_reported_at_the_override(sweep: Path) -> None:
    message = _error(sweep, "execution.submit=0", "exection.retries=1")
    assert message.splitlines() == [
        "--set execution.submit=0: execution.submit: Input should be greater than or equal to 1, got 0",
        "--set exection.retries=1: exection: unknown field 'exection' (did you mean 'execution'?); allowed: "
        "version, batch, step, revision, local, parameters, grid, points_file, search, inputs, variables, max_jobs, name, "
        "tags, folder, execution, report, cleanup",
    ]


def test_errors_inside_an_overridden_value_point_at_the_override(sweep: Path) -> None:
    assert _error(sweep, "grid.depth={range: [3, 1]}") == (
        "--set grid.depth={range: [3, 1]}: grid.depth.range: stop must be greater than start (got [3, 1]); "
        "swap them or give a negative step"
    )


def test_file_errors_and_override_errors_are_reported_together(sweep: Path) -> None:
    sweep.write_text(SWEEP + "execution: {retries: -1}\n")
    assert _error(sweep, "execution.submit=x").splitlines() == [
        "--set execution.submit=x: execution.submit: Input should be a valid integer, got 'x'",
        f"{sweep}:7:22: execution.retries: Input should be greater than or equal to 0, got -1",
    ]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("execution.submit", "--set execution.submit: execution.submit: expected PATH=VALUE, e.g. --set "
                             "execution.submit=4"),
        ("grid..lr=1", "--set grid..lr=1: grid..lr: 'grid..lr' is not a field path; write it like execution.submit "
                       "or grid[0].lr"),
        ("grid.lr.5=1", "--set grid.lr.5=1: grid.lr.5: grid.lr has 2 entries; index 5 is out of range"),
        ("grid.lr.x=1", "--set grid.lr.x=1: grid.lr.x: grid.lr is a list; give an index, e.g. grid.lr[0].x"),
        ("batch.x=1", "--set batch.x=1: batch.x: batch is str, not a mapping or a list"),
        ("grid.lr=[1", "--set grid.lr=[1:1:3: YAML syntax error: expected ',' or ']', but got '<stream end>'"),
    ],
)
def test_malformed_overrides_say_how_to_write_them(sweep: Path, override: str, message: str) -> None:
    assert _error(sweep, override).startswith(message)
