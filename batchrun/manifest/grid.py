"""The sweep part of a manifest: axes, generators, zip groups, exclude and include.

Every key of a grid other than ``zip``, ``exclude`` and ``include`` is an axis. Axes are
values (a list) or a generator (``range``, ``linspace``, ``logspace``). The order in which
keys were written is kept: it is the order of the product (see :mod:`.expand`).
"""

from __future__ import annotations

import difflib
import math
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from batchrun.identity import canonical_json
from batchrun.manifest.fields import IDENTIFIER, JsonValue, Model, Number, ParameterName, parameter_name

MAX_AXIS_VALUES = 10_000_000
GRID_KEYWORDS = ("zip", "exclude", "include")
GENERATORS = ("range", "linspace", "logspace")


def _axis_name(name: str) -> str:
    close = difflib.get_close_matches(name, GRID_KEYWORDS, n=1, cutoff=0.75)
    if close and close[0] != name:
        raise PydanticCustomError(
            "field_name",
            "{name} looks like a misspelt {keyword}; grid keywords are zip, exclude and include, "
            "every other key is an axis",
            {"name": repr(name), "keyword": repr(close[0])},
        )
    return parameter_name(name)


AxisName = Annotated[str, AfterValidator(_axis_name)]


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
        try:
            count = math.ceil((stop - start) / step)
        except OverflowError:  # more values than a float can count
            raise ValueError(f"gives more values than the {MAX_AXIS_VALUES:,} an axis may have") from None
        _axis_size(count)
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

    @model_validator(mode="after")
    def _finite(self) -> Logspace:
        for exponent in self.logspace[:2]:
            try:
                float(self.base) ** exponent
            except OverflowError:
                raise ValueError(
                    f"{self.base} ** {exponent} is too large for a number; use smaller exponents"
                ) from None
        return self

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
    Annotated[Values, Tag("<values>")]
    | Annotated[Range, Tag("<range>")]
    | Annotated[Linspace, Tag("<linspace>")]
    | Annotated[Logspace, Tag("<logspace>")],
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


    def logspace_axes(self) -> set[str]:
        """The axes (zipped members too) generated by ``logspace``: plotted on a log scale."""
        axes = {**(self.model_extra or {}), **(self.zip or {})}
        return {name for name, axis in axes.items() if isinstance(axis, Logspace)}


def _grid_kind(value: Any) -> str | None:
    return "<list>" if isinstance(value, list) else "<mapping>" if isinstance(value, dict) else None


GridSpec = Annotated[
    Annotated[Grid, Tag("<mapping>")] | Annotated[list[Grid], Field(min_length=1), Tag("<list>")],
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
