"""The processing steps the local JMA knows, and which of them it can actually run.

Steps come from two places: ``--steps`` modules discovered at start (these have a local
implementation and a code hash) and manifests uploaded through ``RegisterNewProcessingStep``
(registered, but a started job fails with a hint to start the server with ``--steps``).
A step is identified by name and version, as on the platform: if the code behind a
registered name@version changes, the server refuses to start rather than silently mixing
results of two different codes under one version.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from batchrun.errors import BatchrunError
from batchrun.localjma.payloads import field_errors
from batchrun.localjma.problems import Problem, bad_request
from batchrun.localjma.semver import next_patch
from batchrun.localjma.store import StepRow, Store, utc_now

if TYPE_CHECKING:
    from batchrun.localjma.steps import StepDefinition


class _Manifest(BaseModel):
    """The procon manifest keys the server relies on; anything else is kept as uploaded."""

    model_config = ConfigDict(extra="allow")

    version: str = Field(min_length=1, max_length=40)
    function_name: str = Field(min_length=1, max_length=100)
    short_description: str | None = None
    long_description: str | None = None
    parameters: dict[str, Any] | None = None
    returns: dict[str, Any] | None = None
    input_dataslots: list[dict[str, Any]] = []
    output_dataslots: list[dict[str, Any]] = []
    procon_version: str | None = None


def step_key(function_name: str, version: str) -> str:
    return f"{function_name}@{version}"


class StepRegistry:
    """An in-memory view of the ``steps`` table (steps are few and read on every job render)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._by_id = {step.id: step for step in store.steps()}
        self._implemented: set[str] = set()

    def get(self, step_id: str | None) -> StepRow | None:
        return None if step_id is None else self._by_id.get(step_id)

    def all(self) -> list[StepRow]:
        return list(self._by_id.values())

    def find(self, function_name: str, version: str) -> StepRow | None:
        return next(
            (s for s in self._by_id.values() if s.function_name == function_name and s.version == version), None
        )

    def is_implemented(self, step: StepRow) -> bool:
        return step.id in self._implemented

    def register_definitions(self, definitions: Sequence[StepDefinition], database: str) -> None:
        """Register the steps found in ``--steps``; refuse when a registered version's code changed."""
        with self._lock:
            for definition in definitions:
                existing = self.find(definition.function_name, definition.version)
                if existing is None:
                    step = self._insert(definition.manifest, definition.code_hash, definition.source)
                elif existing.code_hash not in (None, definition.code_hash):
                    raise BatchrunError(
                        f"step '{step_key(definition.function_name, definition.version)}' from "
                        f"{definition.source} is not the code registered under that version in {database}: "
                        f"bump its @version (e.g. @version(\"{next_patch(definition.version)}\")) so results "
                        "of the old and new code stay apart, or use a new --db"
                    )
                elif existing.code_hash is None or existing.source != definition.source:
                    step = self._update(
                        existing, manifest=definition.manifest, code_hash=definition.code_hash,
                        source=definition.source,
                    )
                else:
                    step = existing
                self._implemented.add(step.id)

    def register_manifest(self, document: Any) -> StepRow:
        """Register an uploaded procon manifest (no local implementation)."""
        try:
            manifest = _Manifest.model_validate(document)
        except ValidationError as error:
            errors = field_errors(error, "manifest")
            raise bad_request("the uploaded file is not a processing-step manifest", errors) from None
        with self._lock:
            if self.find(manifest.function_name, manifest.version) is not None:
                raise Problem(
                    409,
                    "Processing step exists",
                    f"'{step_key(manifest.function_name, manifest.version)}' is already registered; "
                    "bump the version to register changed code",
                )
            return self._insert(document, None, None)

    def update(self, step: StepRow, **changes: Any) -> StepRow:
        with self._lock:
            return self._update(step, **changes)

    def _insert(self, manifest: dict[str, Any], code_hash: str | None, source: str | None) -> StepRow:
        now = utc_now()
        step = StepRow(
            id=str(uuid.uuid4()),
            function_name=manifest["function_name"],
            version=manifest["version"],
            manifest=manifest,
            code_hash=code_hash,
            source=source,
            created_at=now,
            modified_at=now,
        )
        self._store.insert_step(step)
        self._by_id[step.id] = step
        return step

    def _update(self, step: StepRow, **changes: Any) -> StepRow:
        changes["modified_at"] = utc_now()
        if "tags" in changes:
            changes["tags"] = tuple(changes["tags"])
        self._store.update_step(step.id, **changes)
        updated = replace(step, **changes)
        self._by_id[step.id] = updated
        return updated
