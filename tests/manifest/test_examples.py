"""The example manifests in manifests/: valid, schema-checked, and their steps really run."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import jsonschema
import pytest

from batchrun.manifest import expand, load_manifest
from batchrun.manifest.schema import manifest_schema
from batchrun.manifest.yamlread import read_yaml
from batchrun.stepkit import version_of
from tests.support import MANIFESTS

EXAMPLES = sorted(MANIFESTS.glob("*.yaml"))
SCHEMA_LINE = "# yaml-language-server: $schema=../schemas/manifest.schema.json"


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_three_documented_examples_exist() -> None:
    assert {path.name for path in EXAMPLES} >= {"quickstart.yaml", "sweep.yaml", "failing.yaml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example_carries_the_schema_line_and_matches_the_schema(path: Path) -> None:
    text = path.read_text()
    assert text.splitlines()[0] == SCHEMA_LINE
    data, _ = read_yaml(text, path.name)
    jsonschema.validate(data, manifest_schema())


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example_steps_run_every_point(path: Path) -> None:
    manifest = load_manifest(path)
    assert manifest.local is not None
    functions = [getattr(_module(steps), manifest.step.function, None) for steps in manifest.local.steps]
    (function,) = [found for found in functions if found is not None]
    assert version_of(function) == manifest.step.version
    failures = []
    for job in expand(manifest):
        try:
            function(**job.parameters)
        except Exception as error:  # the failing example fails on purpose
            failures.append((job.name, type(error).__name__))
    assert failures == ([("divide-by-0", "ZeroDivisionError")] if path.stem == "failing" else [])


def test_the_sweep_example_uses_every_grid_feature() -> None:
    manifest = load_manifest(EXAMPLES[0].with_name("sweep.yaml"))
    grids = manifest.grids()
    used = {type(axis).__name__ for grid in grids for axis in (grid.model_extra or {}).values()}
    assert used >= {"list", "Range", "Linspace", "Logspace"}
    assert len(grids) > 1 and any(grid.zip for grid in grids)
    assert any(grid.exclude for grid in grids) and any(grid.include for grid in grids)
    assert manifest.points_file is not None and manifest.revision is not None
