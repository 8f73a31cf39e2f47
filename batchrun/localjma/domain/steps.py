"""The processing steps the local JMA knows, which of them it can actually run, and their actions.

Steps come from two places: the step sources the server is started with (these have a
local implementation and a code hash) and manifests uploaded through
``RegisterNewProcessingStep`` (registered, but a started job fails with a hint to start
the server with the step's source). A step is identified by name and version, as on the
platform: if the code behind a registered name@version changes, the server refuses to
start rather than silently mixing results of two different codes under one version.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from batchrun.localjma.domain.errors import AlreadyRegistered, Conflict, Invalid, NotFound, field_errors
from batchrun.localjma.domain.semver import next_patch
from batchrun.localjma.domain.values import tag_list
from batchrun.localjma.errors import SettingError
from batchrun.localjma.store.database import Store
from batchrun.localjma.store.rows import StepRow, utc_now

#: The actions of a processing step, in the order its entity lists them.
STEP_ACTIONS = ("EditTags", "Hide", "UnHide", "Deprecate", "Restore")


class StepDefinition(Protocol):
    """A step found in a source the server runs: what registering it needs."""

    @property
    def function_name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def manifest(self) -> dict[str, Any]: ...
    @property
    def code_hash(self) -> str: ...
    @property
    def source(self) -> str: ...


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


def deployment_state(implemented: bool) -> str:
    """Steps the server can run count as deployed externally (to the platform, they are)."""
    return "External" if implemented else "NotDeployed"


def step_blocker(step: StepRow, action: str) -> str | None:
    """Why ``action`` is not available on ``step`` right now, or None when it is."""
    if action in ("Hide", "UnHide") and step.hidden == (action == "Hide"):
        return f"the step is already {'hidden' if step.hidden else 'visible'}"
    if action == "Deprecate" and step.deprecated_at is not None:
        return "the step is deprecated already"
    if action == "Restore" and step.deprecated_at is None:
        return "the step is not deprecated"
    return None


def available_step_actions(step: StepRow) -> list[str]:
    return [action for action in STEP_ACTIONS if step_blocker(step, action) is None]


class StepRegistry:
    """An in-memory view of the ``steps`` table (steps are few and read on every job render)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._by_id = {step.id: step for step in store.steps()}
        self._implemented: set[str] = set()

    def get(self, step_id: str | None) -> StepRow | None:
        return None if step_id is None else self._by_id.get(step_id)

    def step(self, step_id: str) -> StepRow:
        """The step with ``step_id``; NotFound when there is none."""
        step = self.get(step_id)
        if step is None:
            raise NotFound(f"processing step {step_id}")
        return step

    def all(self) -> list[StepRow]:
        return list(self._by_id.values())

    def find(self, function_name: str, version: str) -> StepRow | None:
        return next(
            (s for s in self._by_id.values() if s.function_name == function_name and s.version == version), None
        )

    def is_implemented(self, step: StepRow) -> bool:
        return step.id in self._implemented

    def register_definitions(self, definitions: Sequence[StepDefinition], database: str) -> None:
        """Register the steps found in the server's sources; refuse when a registered version's code changed."""
        with self._lock:
            for definition in definitions:
                existing = self.find(definition.function_name, definition.version)
                if existing is None:
                    step = self._insert(definition.manifest, definition.code_hash, definition.source)
                elif existing.code_hash not in (None, definition.code_hash):
                    raise SettingError(
                        f"step '{step_key(definition.function_name, definition.version)}' from "
                        f"{definition.source} is not the code registered under that version in {database}: "
                        f"bump its @version (e.g. @version(\"{next_patch(definition.version)}\")) so results "
                        "of the old and new code stay apart, or use a new ",
                        "db_path",
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
            raise Invalid("the uploaded file is not a processing-step manifest", errors) from None
        with self._lock:
            if self.find(manifest.function_name, manifest.version) is not None:
                raise AlreadyRegistered(
                    f"'{step_key(manifest.function_name, manifest.version)}' is already registered; "
                    "bump the version to register changed code"
                )
            return self._insert(document, None, None)

    def for_action(self, step_id: str, action: str) -> StepRow:
        """The step, once ``action`` is one steps have and the step allows it now."""
        step = self.step(step_id)
        if action not in STEP_ACTIONS:
            raise NotFound(f"action {action!r} on processing steps")
        if step_blocker(step, action) is not None:
            key = step_key(step.function_name, step.version)
            raise Conflict(f"{action} is not available for {key} in its current state")
        return step

    def edit_tags(self, step: StepRow, tags: Sequence[str] | None) -> None:
        self._change(step, tags=tag_list(tags))

    def set_hidden(self, step: StepRow, hidden: bool) -> None:
        self._change(step, hidden=hidden)

    def deprecate(self, step: StepRow, reason: str | None) -> None:
        self._change(step, deprecated_at=utc_now(), deprecation_reason=reason)

    def restore(self, step: StepRow) -> None:
        self._change(step, deprecated_at=None, deprecation_reason=None)

    def _change(self, step: StepRow, **changes: Any) -> None:
        with self._lock:
            self._update(step, **changes)

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
