"""The example manifests in manifests/: valid, schema-checked, and their steps really run."""

from __future__ import annotations

import importlib.util
import inspect
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest

from batchrun.dataslots import DataSlot, InputSlot, OutputSlot, Slot, SlotMeta, SlotOptions
from batchrun.identity import JobSpec
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


def _slots(function: Any, job: JobSpec, folder: Path) -> dict[str, DataSlot]:
    """The step's data slots for ``job``, on local files: inputs on the job's input files,
    outputs on new files in ``folder`` (what the workers hand a step, without a server)."""
    slots: dict[str, DataSlot] = {}
    files = {bound.slot: [source.path for source in bound.sources] for bound in job.inputs}
    for name, hint in typing.get_type_hints(function, include_extras=True).items():
        extras: tuple[Any, ...] = ()
        if typing.get_origin(hint) is typing.Annotated:
            hint, *rest = typing.get_args(hint)
            extras = tuple(rest)
        if name == "return" or not (inspect.isclass(hint) and issubclass(hint, DataSlot)):
            continue
        options = next((extra for extra in extras if isinstance(extra, SlotOptions)), SlotOptions())
        writable = issubclass(hint, OutputSlot)
        paths = [str(folder / f"{job.index}-{name}")] if writable else files[name]
        slots[name] = (OutputSlot if writable else InputSlot)(name, options.media_type, [
            Slot(path, options.media_type, SlotMeta(readonly=not writable), writable=writable) for path in paths
        ], writable=writable)
    return slots


def test_the_three_documented_examples_exist() -> None:
    assert {path.name for path in EXAMPLES} >= {"quickstart.yaml", "sweep.yaml", "failing.yaml", "tables.yaml", "search.yaml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example_carries_the_schema_line_and_matches_the_schema(path: Path) -> None:
    text = path.read_text()
    assert text.splitlines()[0] == SCHEMA_LINE
    data, _ = read_yaml(text, path.name)
    jsonschema.validate(data, manifest_schema())


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example_steps_run_every_point(path: Path, tmp_path: Path) -> None:
    manifest = load_manifest(path)
    assert manifest.local is not None
    functions = [getattr(_module(steps), manifest.step.function, None) for steps in manifest.local.steps]
    (function,) = [found for found in functions if found is not None]
    assert version_of(function) == manifest.step.version
    failures = []
    for job in expand(manifest):
        try:
            function(**job.parameters, **_slots(function, job, tmp_path))
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


def test_the_tables_example_draws_a_valid_png_per_point(tmp_path: Path) -> None:
    manifest = load_manifest(MANIFESTS / "tables.yaml")
    assert manifest.local is not None
    function = _module(manifest.local.steps[0]).summarize
    for job in expand(manifest):
        function(**job.parameters, **_slots(function, job, tmp_path))
        chart = (tmp_path / f"{job.index}-chart").read_bytes()
        assert chart.startswith(b"\x89PNG\r\n\x1a\n") and chart[12:16] == b"IHDR"
        assert (int.from_bytes(chart[16:20], "big"), int.from_bytes(chart[20:24], "big")) == (320, 200)
