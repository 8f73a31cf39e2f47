"""From a manifest file (plus ``--set`` overrides) to a validated :class:`Manifest`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from batchrun.manifest.errors import Issue, Location, ManifestError
from batchrun.manifest.models import Manifest
from batchrun.manifest.overrides import apply_overrides
from batchrun.manifest.sourcemap import SourceMap
from batchrun.manifest.validation import validation_issues
from batchrun.manifest.yamlread import read_yaml

MAX_BYTES = 2_000_000
"""Manifests are hand-written; long point lists belong in a ``points_file``."""


def _fail(source: str, message: str, line: int | None = None, column: int | None = None) -> ManifestError:
    return ManifestError([Issue(Location(source, line, column), "", message)])


def _read_text(path: Path, source: str) -> str:
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise _fail(source, "is a folder; give the manifest file")
        if size > MAX_BYTES:
            raise _fail(
                source,
                f"is {size:,} bytes, more than the {MAX_BYTES:,} a manifest may have; "
                "move long point lists into a points_file",
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise _fail(source, "file not found; check the path") from None
    except OSError as error:
        raise _fail(source, f"cannot read the file: {error.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = error.start - (before.rfind(b"\n") + 1) + 1
        raise _fail(source, "is not UTF-8 text; save the file as UTF-8", line, column) from None


def validate_manifest(
    data: dict[str, Any], source_map: SourceMap, *, path: Path | None = None, overrides: Sequence[str] = ()
) -> Manifest:
    """Override and validate already-parsed manifest data; relative paths resolve against ``path``'s folder."""
    apply_overrides(data, source_map, overrides)
    base_dir = path.resolve().parent if path is not None else Path.cwd()
    try:
        manifest = Manifest.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as error:
        raise ManifestError(validation_issues(error, data, source_map)) from None
    manifest.attach_source(path.resolve() if path is not None else base_dir / source_map.source, source_map)
    return manifest


def load_manifest(path: str | Path, overrides: Sequence[str] = ()) -> Manifest:
    """Read, override and validate a manifest; every problem found is in one ManifestError."""
    path = Path(path)
    source = str(path)
    data, source_map = read_yaml(_read_text(path, source), source)
    if data is None:
        raise _fail(
            source, "the manifest is empty; start with version: 1, batch: NAME and step: {function: NAME}", 1, 1
        )
    if not isinstance(data, dict):
        raise _fail(source, "a manifest is a mapping of fields (version, batch, step, grid, ...)", 1, 1)
    return validate_manifest(data, source_map, path=path, overrides=overrides)
