"""The ``search`` part of a manifest: an adaptive search instead of a grid.

The space reuses the grid generators' syntax, read as distributions: two bounds instead
of a count (``{linspace: [0, 1]}`` is uniform on [0, 1], ``{logspace: [-4, -1]}``
log-uniform on [1e-4, 1e-1], ``{range: [1, 12]}`` the integers 1..11, stop excluded as
in grids); a list is a categorical choice. The models describe the space; which library
samples it is the engine's business (:mod:`batchrun.search`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from batchrun.manifest.fields import Model, Number
from batchrun.manifest.grid import AxisName, Values

MAX_BUDGET = 100_000
Strategy = Literal["tpe", "gp", "random", "cmaes", "qmc"]


@dataclass(frozen=True)
class Dimension:
    """One parameter's distribution, library-neutral: ``int`` and ``float`` take ``low`` and
    ``high`` (both included) and an optional ``step``; ``categorical`` takes ``choices``."""

    kind: Literal["int", "float", "categorical"]
    low: float = 0.0
    high: float = 0.0
    step: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()


class SpaceRange(Model):
    """``{range: [start, stop]}`` or ``[start, stop, step]``: every value range() gives, stop excluded."""

    range: list[Number] = Field(min_length=2, max_length=3, description="[start, stop] or [start, stop, step]")

    @field_validator("range")
    @classmethod
    def _bounds(cls, bounds: list[float | int]) -> list[float | int]:
        start, stop, step = (*bounds, 1)[:3]
        if step <= 0:
            raise ValueError(f"step must be positive in a search space, got {step}")
        if stop <= start:
            raise ValueError(f"stop must be greater than start (got [{start}, {stop}])")
        return bounds

    def dimension(self) -> Dimension:
        start, stop, step = (*self.range, 1)[:3]
        last = start + step * (math.ceil((stop - start) / step) - 1)
        if all(isinstance(bound, int) for bound in (start, stop, step)):
            return Dimension("int", start, last, step if step != 1 else None)
        return Dimension("float", float(start), float(f"{last:.12g}"), float(step))


def _no_count(bounds: Any) -> Any:
    if isinstance(bounds, list) and len(bounds) == 3:
        raise ValueError(f"a search samples between two bounds: give [low, high], not a count (got {bounds})")
    return bounds


def _two_ordered(bounds: list[float | int]) -> list[float | int]:
    if bounds[0] >= bounds[1]:
        raise ValueError(f"the lower bound must be less than the upper one (got [{bounds[0]}, {bounds[1]}])")
    return bounds


Bounds = Annotated[
    list[Number], BeforeValidator(_no_count), Field(min_length=2, max_length=2), AfterValidator(_two_ordered)
]


class SpaceLinspace(Model):
    """``{linspace: [low, high]}``: uniform between low and high."""

    linspace: Bounds = Field(description="[low, high]")

    def dimension(self) -> Dimension:
        low, high = self.linspace
        return Dimension("float", float(low), float(high))


class SpaceLogspace(Model):
    """``{logspace: [low, high]}``: log-uniform between base**low and base**high."""

    logspace: Bounds = Field(description="[low exponent, high exponent]")
    base: Number = Field(default=10, description="The base raised to each exponent.")

    @field_validator("base")
    @classmethod
    def _base(cls, base: float) -> float:
        if base <= 1:
            raise ValueError("base must be greater than 1")
        return base

    @model_validator(mode="after")
    def _finite(self) -> SpaceLogspace:
        for exponent in self.logspace:
            try:
                value = float(self.base) ** exponent
            except OverflowError:
                value = math.inf
            if not 0 < value < math.inf:
                raise ValueError(f"{self.base} ** {exponent} is not a usable number; use smaller exponents")
        return self

    def dimension(self) -> Dimension:
        low, high = (float(f"{self.base**exponent:.12g}") for exponent in self.logspace)
        return Dimension("float", low, high, log=True)


def _choices(values: list[Any]) -> list[Any]:
    for value in values:
        if isinstance(value, (dict, list)):
            raise ValueError(
                f"choice {value!r} is not a number, string, boolean or null; a search chooses among scalars"
            )
    return values


def _dimension_kind(value: Any) -> str | None:
    if isinstance(value, list):
        return "<choices>"
    if isinstance(value, dict):
        named = [name for name in ("range", "linspace", "logspace") if name in value]
        if len(named) == 1:
            return f"<space-{named[0]}>"
    return None


SpaceDimension = Annotated[
    Annotated[Annotated[Values, AfterValidator(_choices)], Tag("<choices>")]
    | Annotated[SpaceRange, Tag("<space-range>")]
    | Annotated[SpaceLinspace, Tag("<space-linspace>")]
    | Annotated[SpaceLogspace, Tag("<space-logspace>")],
    Discriminator(
        _dimension_kind,
        custom_error_type="dimension",
        custom_error_message="a search dimension takes a list of choices (e.g. [sgd, adam]) or one "
        "distribution: {range: [start, stop]} (integers, stop excluded), {linspace: [low, high]} "
        "(uniform) or {logspace: [low, high]} (log-uniform between 10**low and 10**high)",
    ),
]


class Objective(Model):
    """What a trial is judged by: a number in the job's JSON result."""

    result: str = Field(
        min_length=1,
        description="Dotted path into the job's JSON result, e.g. 'loss' or 'metrics.val_loss'; "
        "'.' for a result that is the number itself.",
    )
    direction: Literal["minimize", "maximize"] = Field(default="minimize", description="minimize or maximize.")


class Search(Model):
    """An adaptive search: each trial one job, proposed from the results of the trials before."""

    strategy: Strategy = Field(
        default="tpe",
        description="The sampler: tpe, gp (Gaussian-process Bayesian optimisation, needs the gp extra), "
        "random, cmaes or qmc.",
    )
    objective: Objective
    budget: Annotated[int, Field(strict=True, ge=1, le=MAX_BUDGET)] = Field(
        description="Trials in total (failed ones count)."
    )
    parallel: Annotated[int, Field(strict=True, ge=1)] = Field(default=1, description="Trials in flight at once.")
    seed: Annotated[int, Field(strict=True, ge=0)] | None = Field(
        default=None, description="The sampler's seed: with parallel 1, two fresh runs propose the same trials."
    )
    space: Annotated[dict[AxisName, SpaceDimension], Field(min_length=1)] = Field(
        description="Parameter → distribution: [choices], {range: [start, stop]}, {linspace: [low, high]} "
        "or {logspace: [low, high]}."
    )

    def dimensions(self) -> dict[str, Dimension]:
        """The space, library-neutral, in written order."""
        return {
            name: Dimension("categorical", choices=tuple(value)) if isinstance(value, list) else value.dimension()
            for name, value in self.space.items()
        }


SPACE_MODELS: dict[str, type[BaseModel]] = {
    "<space-range>": SpaceRange,
    "<space-linspace>": SpaceLinspace,
    "<space-logspace>": SpaceLogspace,
}
"""The model behind each discriminator tag of a search dimension (for error locations)."""
