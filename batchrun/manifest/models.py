"""The manifest, version 1: the single source of truth for its format and its JSON schema.

Field-level rules live here (types, ranges, generator arguments, template syntax), so
pydantic reports all of them at once. Rules that need the whole grid (exclude/include
keys, duplicate points, rendered names) are checked by :mod:`batchrun.manifest.expand`.
Relative paths are resolved against the manifest's folder, passed as the validation
context ``{"base_dir": Path}``.
"""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    PrivateAttr,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from batchrun.identity import TAG_PREFIX, canonical_json
from batchrun.manifest.errors import FieldPath, Location
from batchrun.manifest.sourcemap import SourceMap
from batchrun.manifest.templating import check_template
from batchrun.stepkit import version as version_decorator

MANIFEST_VERSION = 1
DEFAULT_MAX_JOBS = 1_000_000
MAX_AXIS_VALUES = 10_000_000
GRID_KEYWORDS = ("zip", "exclude", "include")
GENERATORS = ("range", "linspace", "logspace")
IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
BATCH_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
_IDENTIFIER = re.compile(IDENTIFIER)


class Model(BaseModel):
    """Base of every manifest section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# -- value types ------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    try:
        canonical_json(value)
    except ValueError as error:
        raise ValueError(str(error)) from None
    return value


JsonValue = Annotated[Any, AfterValidator(_json_value)]
"""Any value a step parameter can take: JSON data without NaN or infinities."""


def _number(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PydanticCustomError("number", "must be a number, got {got}", {"got": repr(value)})
    if not math.isfinite(value):
        raise PydanticCustomError("number", "must be a finite number, got {got}", {"got": repr(value)})
    return value


Number = Annotated[float | int, PlainValidator(_number), WithJsonSchema({"type": "number"})]
StrictPositive = Annotated[int, Field(strict=True, ge=1)]
StrictNonNegative = Annotated[int, Field(strict=True, ge=0)]


def _matching(pattern: str, what: str) -> Any:
    """A check that ``pattern`` matches, saying ``what`` is allowed; the schema gets the pattern."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise PydanticCustomError("pattern", "{value} is not allowed here; use {what}", {"value": repr(value), "what": what})
        return value

    return AfterValidator(check)


def _parameter_name(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise PydanticCustomError(
            "field_name",
            "{name} is not a valid parameter name; use letters, digits and '_', not starting with a digit",
            {"name": repr(name)},
        )
    return name


ParameterName = Annotated[str, AfterValidator(_parameter_name)]


def _axis_name(name: str) -> str:
    close = difflib.get_close_matches(name, GRID_KEYWORDS, n=1, cutoff=0.75)
    if close and close[0] != name:
        raise PydanticCustomError(
            "field_name",
            "{name} looks like a misspelt {keyword}; grid keywords are zip, exclude and include, "
            "every other key is an axis",
            {"name": repr(name), "keyword": repr(close[0])},
        )
    return _parameter_name(name)


AxisName = Annotated[str, AfterValidator(_axis_name)]


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


# -- step and local -----------------------------------------------------------------------


def _step_version(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(
            f'quote the version, e.g. version: "{value}" (unquoted, YAML reads 1.10 as the number 1.1)'
        )
    return value


def _check_step_version(value: str | None) -> str | None:
    if value is not None:
        version_decorator(value)  # raises ValueError with the platform's version rules
    return value


class StepRef(Model):
    """Which processing step every job runs."""

    function: Annotated[
        str,
        Field(max_length=100, json_schema_extra={"pattern": IDENTIFIER}),
        _matching(IDENTIFIER, "the Python name of the step function"),
    ] = Field(
        description="The step function's name, as registered on the platform."
    )
    version: Annotated[str | None, BeforeValidator(_step_version), AfterValidator(_check_step_version)] = Field(
        default=None,
        description="The step version, e.g. '1.0.0'. Omitted: exactly one version of the function "
        "must exist on the platform when the batch is planned.",
    )


class Local(Model):
    """Settings for the embedded local job server (ignored against a remote platform)."""

    steps: list[ExistingFile] = Field(
        min_length=1, description="Python files defining the steps, relative to the manifest."
    )
    workers: StrictPositive | None = Field(
        default=None, description="Worker processes; default: the number of CPUs."
    )


# -- grid ---------------------------------------------------------------------------------


def _spaced(start: float, step: float, count: int) -> list[float | int]:
    """``count`` evenly spaced values, rounded to 12 significant digits (0.3, not 0.30000000000000004)."""
    return [float(f"{start + index * step:.12g}") for index in range(count)]


def _axis_size(count: int) -> int:
    if count > MAX_AXIS_VALUES:
        raise ValueError(f"gives {count:,} values, more than the {MAX_AXIS_VALUES:,} an axis may have")
    return count


class Range(Model):
    """``{range: [start, stop, step]}``: like Python's range, stop excluded, step default 1."""

    range: list[Number] = Field(min_length=2, max_length=3, description="[start, stop] or [start, stop, step]")

    @field_validator("range")
    @classmethod
    def _bounds(cls, bounds: list[float | int]) -> list[float | int]:
        start, stop, step = (*bounds, 1)[:3]
        if step == 0:
            raise ValueError("step must not be 0")
        if step > 0 and stop <= start:
            raise ValueError(
                f"stop must be greater than start (got [{start}, {stop}]); swap them or give a negative step"
            )
        if step < 0 and stop >= start:
            raise ValueError(f"with a negative step, stop must be less than start (got [{start}, {stop}])")
        _axis_size(math.ceil((stop - start) / step))
        return bounds

    def values(self) -> list[Any]:
        """The generated values: ints when all bounds are ints, floats otherwise."""
        start, stop, step = (*self.range, 1)[:3]
        count = math.ceil((stop - start) / step)
        if all(isinstance(bound, int) for bound in (start, stop, step)):
            return list(range(int(start), int(stop), int(step)))
        return _spaced(start, step, count)


def _check_count(bounds: list[float | int]) -> list[float | int]:
    count = bounds[2]
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"num (the third value) must be a whole number of at least 1, got {count!r}")
    _axis_size(count)
    return bounds


class Linspace(Model):
    """``{linspace: [start, stop, num]}``: num evenly spaced values, both ends included."""

    linspace: list[Number] = Field(min_length=3, max_length=3, description="[start, stop, num]")

    _count = field_validator("linspace")(_check_count)

    def values(self) -> list[Any]:
        """The generated values, as floats."""
        start, stop, count = self.linspace
        step = (stop - start) / (count - 1) if count > 1 else 0.0
        return _spaced(start, step, int(count))


class Logspace(Model):
    """``{logspace: [start, stop, num]}``: base ** x for num evenly spaced x (numpy semantics)."""

    logspace: list[Number] = Field(min_length=3, max_length=3, description="[start exponent, stop exponent, num]")
    base: Number = Field(default=10, description="The base raised to each exponent.")

    _count = field_validator("logspace")(_check_count)

    @field_validator("base")
    @classmethod
    def _base(cls, base: float) -> float:
        if base <= 0 or base == 1:
            raise ValueError("base must be positive and not 1")
        return base

    def values(self) -> list[Any]:
        """The generated values, as floats rounded to 12 significant digits."""
        exponents = Linspace(linspace=self.logspace).values()
        return [float(f"{self.base**exponent:.12g}") for exponent in exponents]


def _unique_values(values: list[Any]) -> list[Any]:
    seen: dict[str, int] = {}
    for position, value in enumerate(values):
        text = canonical_json(value)
        if text in seen:
            raise ValueError(
                f"value {value!r} is listed twice (positions {seen[text]} and {position}); remove one"
            )
        seen[text] = position
    return values


Values = Annotated[list[JsonValue], Field(min_length=1), AfterValidator(_unique_values)]


def _axis_kind(value: Any) -> str | None:
    if isinstance(value, list):
        return "<values>"
    if isinstance(value, dict):
        named = [name for name in GENERATORS if name in value]
        if len(named) == 1:
            return f"<{named[0]}>"
        if not named and value:
            guess = difflib.get_close_matches(str(next(iter(value))), GENERATORS, n=1, cutoff=0.0)
            return f"<{guess[0]}>"
    return None


Axis = Annotated[
    Union[
        Annotated[Values, Tag("<values>")],
        Annotated[Range, Tag("<range>")],
        Annotated[Linspace, Tag("<linspace>")],
        Annotated[Logspace, Tag("<logspace>")],
    ],
    Discriminator(
        _axis_kind,
        custom_error_type="axis",
        custom_error_message="an axis takes a list of values (e.g. [0.1, 0.2]) or one generator: "
        "{range: [start, stop]}, {linspace: [start, stop, num]} or {logspace: [start, stop, num]}; "
        "for a value every job shares, use parameters",
    ),
]


def axis_values(axis: Any) -> list[Any]:
    """The values of one axis, generated or listed."""
    return axis if isinstance(axis, list) else axis.values()


def _equal_lengths(group: dict[str, Any]) -> dict[str, Any]:
    lengths = {name: len(axis_values(axis)) for name, axis in group.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} has {length}" for name, length in lengths.items())
        raise ValueError(f"zipped lists must have equal length: {listed}")
    return group


ZipGroup = Annotated[dict[AxisName, Axis], Field(min_length=1), AfterValidator(_equal_lengths)]
Point = dict[ParameterName, JsonValue]


class Grid(Model):
    """One grid: axes multiplied out, then ``exclude``, then ``include``.

    Every key other than ``zip``, ``exclude`` and ``include`` is an axis; the last key varies
    fastest. ``zip`` is one axis of paired rows, at the position where it is written.
    """

    model_config = ConfigDict(extra="allow", json_schema_extra={"propertyNames": {"pattern": IDENTIFIER}})
    __pydantic_extra__: dict[AxisName, Axis] = Field(init=False)

    zip: ZipGroup | None = Field(
        default=None, description="Paired axes: the i-th values of every list go together."
    )
    exclude: list[Point] = Field(
        default=[], description="Drop every point whose values match all keys of an entry."
    )
    include: list[Point] = Field(
        default=[], description="Extra full points, appended after exclude, never merged with others."
    )
    _order: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _remember_order(cls, data: Any, handler: Any) -> Grid:
        grid: Grid = handler(data)
        if isinstance(data, dict):
            grid._order = tuple(name for name in data if name not in ("exclude", "include"))
        return grid

    def axes(self) -> list[tuple[str, ...] | str]:
        """Axis names in written order; a zip group appears as the tuple of its names."""
        extra = self.model_extra or {}
        names: list[tuple[str, ...] | str] = []
        for name in self._order or [*extra, "zip"]:
            if name == "zip" and self.zip:
                names.append(tuple(self.zip))
            elif name in extra:
                names.append(name)
        return names

    def axis(self, name: str) -> list[Any]:
        """Values of the axis (or zipped member) ``name``."""
        if self.zip and name in self.zip:
            return axis_values(self.zip[name])
        return axis_values((self.model_extra or {})[name])


def _grid_kind(value: Any) -> str | None:
    return "<list>" if isinstance(value, list) else "<mapping>" if isinstance(value, dict) else None


GridSpec = Annotated[
    Union[Annotated[Grid, Tag("<mapping>")], Annotated[list[Grid], Field(min_length=1), Tag("<list>")]],
    Discriminator(
        _grid_kind,
        custom_error_type="grid",
        custom_error_message="grid takes a mapping of axes, or a list of such mappings (their union)",
    ),
]


TAGGED_MODELS: dict[str, type[BaseModel]] = {
    "<range>": Range,
    "<linspace>": Linspace,
    "<logspace>": Logspace,
    "<mapping>": Grid,
    "<list>": Grid,
}
"""The model behind each discriminator tag that appears in validation error locations."""


# -- execution, report, cleanup ---------------------------------------------------------


class Execution(Model):
    """How jobs are submitted and what happens when they fail."""

    submit: StrictPositive = Field(default=8, description="HTTP calls in flight while creating jobs.")
    max_running: StrictPositive = Field(default=32, description="Jobs started but not finished on the platform.")
    retries: StrictNonNegative = Field(default=0, description="New attempts for a failed point.")
    timeout: Duration = Field(
        default=None, description="Per-job wall time: seconds, or '90s', '10m', '2h'; null for none."
    )
    on_failure: Literal["continue", "finish", "cancel"] = Field(
        default="continue",
        description="continue: run every point; finish: start no new jobs, wait for running ones; "
        "cancel: cancel running jobs too.",
    )


ReportFormat = Literal["json", "csv", "md", "html"]


def _unique_formats(formats: list[str]) -> list[str]:
    if len(set(formats)) != len(formats):
        raise ValueError("a format is listed twice; list each once")
    return formats


class Report(Model):
    """Where the report goes and in which formats."""

    model_config = ConfigDict(revalidate_instances="always")  # the default resolves its dir too

    dir: RelativePath = Field(
        default=Path("reports"), validate_default=True, description="Folder, relative to the manifest."
    )
    formats: Annotated[list[ReportFormat], AfterValidator(_unique_formats)] = Field(
        default=["json", "csv", "md"], description="Any of json, csv, md, html."
    )


class Cleanup(Model):
    """What to delete once the batch is done."""

    after: Literal["never", "success", "always"] = Field(
        default="never", description="never; success: when every job succeeded; always."
    )
    delete_output_workdata: bool = Field(default=True, description="Delete work data the jobs produced.")
    delete_input_workdata: bool = Field(default=False, description="Delete work data the jobs consumed.")
    delete_subjobs_with_data: bool = Field(default=True, description="Delete sub-jobs and their work data.")


# -- the manifest -------------------------------------------------------------------------


Scalar = Union[str, int, float, bool, None]


class Manifest(Model):
    """A batch: one step, a parameter sweep, and how to run and report it."""

    model_config = ConfigDict(title="batchrun manifest", extra="forbid", frozen=True)

    version: Literal[1] = Field(description="Manifest format version; always 1.")
    batch: Annotated[
        str,
        Field(max_length=100, json_schema_extra={"pattern": BATCH_NAME}),
        _matching(BATCH_NAME, "letters, digits, '.', '_' and '-', starting with a letter or digit"),
    ] = Field(
        description="The batch's name: its ownership identity on the platform (letters, digits, . _ -)."
    )
    step: StepRef
    revision: Annotated[Scalar, AfterValidator(_json_value)] = Field(
        default=None,
        description="Change it to rerun every point, e.g. a dataset snapshot id. Part of the spec hash.",
    )
    local: Local | None = None
    parameters: dict[ParameterName, JsonValue] = Field(default={}, description="Fixed for every job.")
    grid: GridSpec | None = Field(default=None, description="The sweep: a grid, or a list of grids (union).")
    points_file: ExistingFile | None = Field(
        default=None, description="Extra explicit points: CSV with a header row, or JSON Lines."
    )
    max_jobs: StrictPositive = Field(
        default=DEFAULT_MAX_JOBS, description="Refuse to expand to more jobs than this."
    )
    name: Template = Field(
        default="{{ batch }}-{{ index }}",
        description="Jinja2 template of each job's name; variables: every parameter, params, batch, index, key.",
    )
    tags: list[Annotated[str, AfterValidator(_tag_template)]] = Field(
        default=[], description="Jinja2 templates of extra job tags ('key' or 'key=value')."
    )
    execution: Execution = Execution()
    report: Report = Field(default=Report(), validate_default=True)
    cleanup: Cleanup = Cleanup()

    _source_path: Path | None = PrivateAttr(default=None)
    _source_map: SourceMap | None = PrivateAttr(default=None)

    def attach_source(self, path: Path, source_map: SourceMap) -> None:
        """Remember the file this was read from and where each value was written."""
        self._source_path = path
        self._source_map = source_map

    def locate(self, path: FieldPath, *, key: bool = False) -> Location:
        """Where the value (or the key) at ``path`` was written, for error messages."""
        if self._source_map is None:
            return Location(str(self.source_path))
        return self._source_map.locate(path, key=key)

    @property
    def source_path(self) -> Path:
        """The manifest file this was loaded from (absolute)."""
        return self._source_path or Path.cwd() / "<manifest>"

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in the manifest are resolved against."""
        return self.source_path.parent

    def grids(self) -> list[Grid]:
        """The grids of the union, in order (none when the manifest has no grid)."""
        if self.grid is None:
            return []
        return self.grid if isinstance(self.grid, list) else [self.grid]
