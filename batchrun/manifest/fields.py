"""Building blocks of the manifest models: the base model and reusable field types.

Each type validates one kind of value and says how to fix a wrong one. Relative paths
resolve against the manifest's folder, given as the validation context ``{"base_dir": Path}``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

from batchrun.identity import TAG_PREFIX, canonical_json
from batchrun.manifest.templating import check_template, is_constant

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
BATCH_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
PATTERN_HINTS = {
    IDENTIFIER: "letters, digits and '_', not starting with a digit",
    BATCH_NAME: "letters, digits, '.', '_' and '-', starting with a letter or digit",
}
"""What each name pattern allows, in words, for error messages."""
_IDENTIFIER = re.compile(IDENTIFIER)


class Model(BaseModel):
    """Base of every manifest section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# -- value types ------------------------------------------------------------------------


def json_value(value: Any) -> Any:
    try:
        canonical_json(value)
    except ValueError as error:
        raise ValueError(str(error)) from None
    return value


JsonValue = Annotated[Any, AfterValidator(json_value)]
"""Any value a step parameter can take: JSON data without NaN or infinities."""


def _number(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PydanticCustomError("number", "must be a number, got {got}", {"got": repr(value)})
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond any float
        raise PydanticCustomError("number", "is too large; numbers here must be within ±1.7e308", {}) from None
    if not finite:
        raise PydanticCustomError("number", "must be a finite number, got {got}", {"got": repr(value)})
    return value


Number = Annotated[float | int, PlainValidator(_number), WithJsonSchema({"type": "number"})]
StrictPositive = Annotated[int, Field(strict=True, ge=1)]
StrictNonNegative = Annotated[int, Field(strict=True, ge=0)]


def parameter_name(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise PydanticCustomError(
            "field_name",
            "{name} is not a valid parameter name; use {allowed}",
            {"name": repr(name), "allowed": PATTERN_HINTS[IDENTIFIER]},
        )
    return name


ParameterName = Annotated[str, AfterValidator(parameter_name)]


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    return (Path(base) / value).resolve() if base is not None else value


def _existing_file(value: Path, info: ValidationInfo) -> Path:
    if (info.context or {}).get("base_dir") is not None and not value.is_file():
        problem = "is a folder, not a file" if value.is_dir() else "file not found"
        raise PydanticCustomError(
            "file_missing",
            "{problem}: {path}; paths are relative to the manifest's folder",
            {"problem": problem, "path": str(value)},
        )
    return value


RelativePath = Annotated[Path, AfterValidator(_resolve_path)]
"""A path written relative to the manifest's folder (absolute once loaded)."""
ExistingFile = Annotated[RelativePath, AfterValidator(_existing_file)]


def _template(source: str) -> str:
    check_template(source)
    return source


Template = Annotated[str, AfterValidator(_template)]


def _tag_template(source: str) -> str:
    if not source.strip():
        raise ValueError("a tag cannot be empty")
    if source.startswith(TAG_PREFIX):
        raise ValueError(f"tags starting with {TAG_PREFIX!r} are reserved for batchrun; rename the tag")
    return _template(source)


TagTemplate = Annotated[str, AfterValidator(_tag_template)]
"""A tag template: not empty, not in batchrun's reserved ``batchrun.`` namespace."""


def folder_path_problem(path: str) -> str | None:
    """What a folder path must be and ``path`` is not (None: it is fine): absolute, a name per segment."""
    if not path.startswith("/"):
        return "must start with '/', e.g. /sweeps/{{ batch }}"
    names = path.strip("/").split("/")
    if path.strip("/") and any(not name.strip() or name in (".", "..") for name in names):
        return "must have a name between each two slashes, and no '.' or '..'"
    return None


def canonical_folder(path: str) -> str:
    """A valid folder path as the platform writes it: ``/sweeps/b1/``."""
    return "/" + "".join(f"{name}/" for name in path.split("/") if name)


def _folder_template(source: str) -> str:
    problem = folder_path_problem(source) if is_constant(source) else None
    if problem is not None:
        raise ValueError(f"{source!r}: a folder path {problem}")
    return _template(source)


FolderTemplate = Annotated[str, AfterValidator(_folder_template)]
"""A folder path template; a constant one must be a valid path already."""


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: Any) -> float | None:
    """Seconds from ``90``, ``"90s"``, ``"10m"``, ``"2h"``, ``"1h30m"``; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.replace(" ", "")
        parts = _DURATION.findall(text)
        if text and "".join(number + unit for number, unit in parts) == text:
            value = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
        else:
            try:
                value = float(text)
            except ValueError:
                raise ValueError(
                    f"{value!r} is not a duration; write seconds (90) or a number with a unit: "
                    "'90s', '10m', '2h', '1h30m', '1d'"
                ) from None
    seconds = _number(value)
    if seconds <= 0:
        raise ValueError("a duration must be greater than zero; use null for no limit")
    return float(seconds)


Duration = Annotated[
    float | None,
    PlainValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?\s*(ms|s|m|h|d)\s*)+$"},
                {"type": "null"},
            ]
        }
    ),
]
