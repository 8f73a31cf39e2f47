"""The manifest's JSON schema, generated from the pydantic models (never edited by hand)."""

from __future__ import annotations

import json
from typing import Any

from batchrun.manifest.models import Manifest

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def manifest_schema() -> dict[str, Any]:
    """The JSON schema editors use to check and complete manifests."""
    return {"$schema": SCHEMA_DIALECT, **Manifest.model_json_schema(mode="validation")}


def manifest_schema_text() -> str:
    """The schema as committed in ``schemas/manifest.schema.json``: stable, indented, final newline."""
    return json.dumps(manifest_schema(), indent=2, ensure_ascii=False) + "\n"
