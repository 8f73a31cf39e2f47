"""Building manifests in memory for the grid tests."""

from __future__ import annotations

from typing import Any

from batchrun.manifest import Manifest
from batchrun.manifest.loader import validate_manifest
from batchrun.manifest.sourcemap import SourceMap

BASE: dict[str, Any] = {"version": 1, "batch": "demo", "step": {"function": "train", "version": "1.0.0"}}


def manifest(**fields: Any) -> Manifest:
    """A validated manifest from keyword fields on top of a minimal valid header."""
    return validate_manifest({**BASE, **fields}, SourceMap("<test>"))
