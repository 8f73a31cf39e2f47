"""pydantic's validation errors → issues that name file:line:col, the field and a fix."""

from __future__ import annotations

from typing import Any, NamedTuple, get_args

from pydantic import BaseModel, ValidationError

from batchrun.manifest.errors import FieldPath, Issue, closest, did_you_mean, format_path
from batchrun.manifest.fields import PATTERN_HINTS
from batchrun.manifest.grid import TAGGED_MODELS
from batchrun.manifest.models import MANIFEST_VERSION, Manifest
from batchrun.manifest.search import SPACE_MODELS
from batchrun.manifest.sourcemap import SourceMap

_KEY_ERRORS = {"extra_forbidden", "field_name"}
_SHOW_INPUT = ("_type", "_parsing", "greater_than", "greater_than_equal", "less_than", "less_than_equal")
_EXAMPLES = {
    "version": f"version: {MANIFEST_VERSION}",
    "batch": "batch: my-sweep",
    "step": "step: {function: train, version: '1.0.0'}",
    "function": "function: train",
    "objective": "objective: {result: loss, direction: minimize}",
    "budget": "budget: 50",
    "space": "space: {lr: {logspace: [-4, -1]}}",
}


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The manifest model a validation location points into, following union tags."""
    current: type[BaseModel] | None = Manifest
    for part in loc:
        if isinstance(part, int):
            continue
        if part in TAGGED_MODELS or part in SPACE_MODELS:
            current = {**TAGGED_MODELS, **SPACE_MODELS}[part]
        elif current is not None and part in current.model_fields:
            current = _model_in(current.model_fields[part].annotation)
        else:
            current = None
    return current


def _allowed(loc: tuple[Any, ...]) -> list[str]:
    """Field names accepted where the unknown key at ``loc`` was written."""
    model = _model_at(loc[:-1])
    return list(model.model_fields) if model else []


def _data_path(loc: tuple[Any, ...], data: Any) -> FieldPath:
    """The part of ``loc`` that exists in ``data`` (pydantic adds union tags and the like)."""
    path: list[str | int] = []
    for part in loc:
        in_dict = isinstance(data, dict) and isinstance(part, str) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if in_dict or in_list:
            data = data[part]
            path.append(part)
    return tuple(path)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(error: Any, path: FieldPath) -> str:
    kind, loc, message = str(error["type"]), error["loc"], str(error["msg"])
    value = error.get("input")
    if kind == "extra_forbidden":
        name = str(path[-1])
        allowed = _allowed(loc)
        listing = f"; allowed: {', '.join(allowed)}" if allowed else ""
        return f"unknown field {name!r}{did_you_mean(name, allowed)}{listing}"
    if kind == "missing":
        name = str(loc[-1])
        example = f", e.g. {_EXAMPLES[name]}" if name in _EXAMPLES else ""
        return f"required field {name!r} is missing; add it{example}"
    if path == ("version",) and kind == "literal_error":
        return f"unsupported manifest version {_shown(value)}; this batchrun reads version {MANIFEST_VERSION}"
    if kind == "model_type" and not path:
        return "a manifest is a mapping of fields (version, batch, step, grid, ...)"
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "string_pattern_mismatch" and error["ctx"]["pattern"] in PATTERN_HINTS:
        return f"{_shown(value)} is not allowed here; use {PATTERN_HINTS[error['ctx']['pattern']]}"
    if kind == "too_short":
        wanted, got = error["ctx"]["min_length"], error["ctx"]["actual_length"]
        if wanted == 1:
            return "is empty; add at least one entry or remove the field"
        return f"needs at least {wanted} entries, got {got}"
    if kind == "literal_error":
        expected = list(error["ctx"]["expected"].split("'")[1::2])
        return f"{message}, got {_shown(value)}{did_you_mean(str(value), expected)}"
    if kind.endswith(_SHOW_INPUT) and not isinstance(value, (dict, list)):
        return f"{message}, got {_shown(value)}"
    return message


class _Found(NamedTuple):
    kind: str
    loc: tuple[Any, ...]
    path: FieldPath
    message: str


def _suppressed(found: list[_Found]) -> set[int]:
    """Drop "missing 'range'" when the same mapping has an unknown 'rnage': one typo, one issue."""
    typos = set()
    for item in found:
        if item.kind == "extra_forbidden":
            guess = closest(str(item.path[-1]), _allowed(item.loc))
            if guess:
                typos.add((item.path[:-1], guess))
    return {
        index
        for index, item in enumerate(found)
        if item.kind == "missing" and (item.path[:-1], item.path[-1]) in typos
    }


def validation_issues(error: ValidationError, data: Any, source_map: SourceMap) -> list[Issue]:
    """One issue per pydantic error, located in the file (or the ``--set`` that caused it)."""
    found: list[_Found] = []
    for item in error.errors(include_url=False):
        path = _data_path(item["loc"], data)
        if item["type"] == "missing":
            path = (*path, item["loc"][-1])
        found.append(_Found(item["type"], item["loc"], path, _message(item, path)))
    skip = _suppressed(found)
    issues: list[Issue] = []
    for index, (kind, _, path, message) in enumerate(found):
        if index in skip:
            continue
        if kind == "missing":
            location = source_map.locate(path[:-1])
        else:
            location = source_map.locate(path, key=kind in _KEY_ERRORS)
        issue = Issue(location, format_path(path), message)
        if issue not in issues:
            issues.append(issue)
    return sorted(issues, key=lambda issue: (issue.location.line or 0, issue.location.column or 0))
