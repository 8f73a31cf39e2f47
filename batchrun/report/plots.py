"""Which plots the HTML report draws: the ones ``report.plots`` names, or chosen from the data.

Chosen from the data: each numeric result field against each swept numeric axis (log
scale where the grid used logspace), coloured by the first categorical axis; a heatmap of
the first result field over the first two numeric axes; parallel coordinates over every
axis and numeric result field when three or more axes are swept; the durations as a
histogram. Every plot shows the completed points.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from batchrun.report.model import Report, ReportJob, flatten_result
from batchrun.states import JobState

MAX_FIELD_PLOTS = 12
"""Field-against-axis plots chosen automatically, at most (name more in ``report.plots``)."""

PlotKind = Literal["scatter", "line", "heatmap", "parallel", "histogram"]


@dataclass(frozen=True)
class PlotSpec:
    """One plot as the page's script draws it; names are axis names or result fields."""

    kind: PlotKind
    title: str
    x: str | None = None
    y: str | None = None
    color: str | None = None
    value: str | None = None  # the heatmap's cell value
    log_x: bool = False
    log_y: bool = False
    dimensions: list[str] = field(default_factory=list)  # parallel coordinates, in order
    log: list[str] = field(default_factory=list)  # axes on a log scale (parallel coordinates)

    def to_json(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if value not in (None, False, [])}


def completed(report: Report) -> list[ReportJob]:
    return [job for job in report.jobs if job.state == JobState.COMPLETED]


def numeric_fields(jobs: Iterable[ReportJob]) -> list[str]:
    """Result fields (flattened) that are a number in every completed point that has them."""
    kinds: dict[str, bool] = {}
    for job in jobs:
        for name, value in flatten_result(job.result).items():
            if value is None:
                continue
            is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
            kinds[name] = kinds.get(name, True) and is_number
    return [name for name, numeric in kinds.items() if numeric]


def choose_plots(report: Report) -> list[PlotSpec]:
    """The plots ``report.plots`` names, or else the ones the data calls for."""
    if report.plots:
        return [
            PlotSpec(kind=plot.kind, title=plot.title or f"{plot.y} vs {plot.x}", x=plot.x, y=plot.y,
                     color=plot.color, log_x=plot.log_x, log_y=plot.log_y)
            for plot in report.plots
        ]
    done = completed(report)
    if not done:
        return []
    fields = numeric_fields(done)
    numeric = [axis for axis in report.axes if axis.numeric]
    categorical = [axis.name for axis in report.axes if not axis.numeric]
    color = categorical[0] if categorical else None
    plots = [
        PlotSpec(kind="scatter", title=f"{name} vs {axis.name}", x=axis.name, y=name, color=color, log_x=axis.log)
        for name in fields
        for axis in numeric
    ][:MAX_FIELD_PLOTS]
    if len(numeric) >= 2 and fields:
        first, second = numeric[:2]
        plots.append(PlotSpec(kind="heatmap", title=f"{fields[0]} over {first.name} and {second.name}",
                              x=first.name, y=second.name, value=fields[0]))
    if len(report.axes) >= 3:
        plots.append(PlotSpec(kind="parallel", title="Parameters and results",
                              dimensions=[axis.name for axis in report.axes] + fields,
                              color=fields[0] if fields else None,
                              log=[axis.name for axis in report.axes if axis.log]))
    if any(job.duration_s is not None for job in done):
        plots.append(PlotSpec(kind="histogram", title="Job durations (s)", x="duration_s"))
    return plots
