"""The manifest, version 1: the single source of truth for its format and its JSON schema.

Field-level rules live in the models (types, ranges, generator arguments, template
syntax), so pydantic reports all of them at once; the grid's models are in
:mod:`.grid`, reusable field types in :mod:`.fields`. Rules that need the whole grid
(exclude/include keys, duplicate points, rendered names) are checked by :mod:`.expand`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator

from batchrun.collector import paused
from batchrun.identity import JobSpec
from batchrun.manifest.errors import FieldPath, Location
from batchrun.manifest.fields import (
    BATCH_NAME,
    IDENTIFIER,
    Duration,
    ExistingFile,
    FolderTemplate,
    JsonValue,
    Model,
    ParameterName,
    RelativePath,
    StrictNonNegative,
    StrictPositive,
    TagTemplate,
    Template,
    json_value,
)
from batchrun.manifest.grid import Grid, GridSpec
from batchrun.manifest.search import Search
from batchrun.manifest.sourcemap import SourceMap
from batchrun.stepkit import version as version_decorator

MANIFEST_VERSION = 1
DEFAULT_MAX_JOBS = 1_000_000
MAX_JOBS_CEILING = 1_000_000
"""max_jobs can be lowered, never raised past this: expanding is bounded in time and memory."""


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

    function: Annotated[str, Field(pattern=IDENTIFIER, max_length=100)] = Field(
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



# -- inputs ------------------------------------------------------------------------------


class InputBinding(Model):
    """What one input data slot of the step gets: exactly one of file, files, workdata, tags.

    Every value is a Jinja2 template rendered per point (like ``name`` and ``tags``)."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": [name]} for name in ("file", "files", "workdata", "tags")]}
    )

    file: Template | None = Field(
        default=None, description="A local file, relative to the manifest; uploaded once (by content)."
    )
    files: Annotated[list[Template], Field(min_length=1)] | None = Field(
        default=None, description="Several local files, for a collection slot."
    )
    workdata: Template | Annotated[list[Template], Field(min_length=1)] | None = Field(
        default=None, description="An existing WorkData (its id or URL), or a list of them."
    )
    tags: Annotated[list[Template], Field(min_length=1)] | None = Field(
        default=None, description="Every WorkData carrying all these tags, resolved when the batch is planned."
    )
    media_type: str | None = Field(
        default=None, description="With tags: only WorkData whose media type contains this."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> InputBinding:
        given = [name for name in ("file", "files", "workdata", "tags") if getattr(self, name) is not None]
        if len(given) != 1:
            got = "none" if not given else " and ".join(given)
            raise ValueError(f"give exactly one of file, files, workdata or tags (got {got})")
        if self.media_type is not None and self.tags is None:
            raise ValueError("media_type filters a tags query; use it together with tags")
        return self

    @property
    def kind(self) -> str:
        return next(name for name in ("file", "files", "workdata", "tags") if getattr(self, name) is not None)


# -- execution, report, cleanup ---------------------------------------------------------


class Execution(Model):
    """How jobs are submitted and what happens when they fail."""

    submit: StrictPositive = Field(
        default=32,
        description="HTTP calls in flight while creating jobs (32 keeps a platform 50 ms away busy: "
        "1,000 jobs in about 3 s; BENCHMARKS.md).",
    )
    max_running: StrictPositive = Field(default=32, description="Jobs started but not finished on the platform.")
    retries: StrictNonNegative = Field(default=0, description="New attempts for a failed point.")
    timeout: Duration = Field(
        default=None, description="Per-job wall time: seconds, or '90s', '10m', '2h'; null for none."
    )
    patience: Duration = Field(
        default=120.0,
        description="How long apply rides out an unreachable platform (refused connections, "
        "timeouts, 502/503/504) before it writes the report of what is known and exits 1; "
        "null: a few quick retries only.",
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


PLOT_FIELD = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$"


class Plot(Model):
    """One plot of the HTML report, named instead of chosen automatically.

    ``x`` and ``color`` name a swept axis or a result field, ``y`` a result field
    (``result`` for a scalar result, ``result.loss`` for a field of a dict result); the
    names are checked against the grid when the manifest is expanded."""

    x: Annotated[str, Field(pattern=PLOT_FIELD, max_length=200)] = Field(
        description="A swept axis (e.g. lr) or a result field (e.g. result.loss)."
    )
    y: Annotated[str, Field(pattern=PLOT_FIELD, max_length=200)] = Field(
        description="A result field: result (a scalar result) or result.<field> (a dict result)."
    )
    color: Annotated[str, Field(pattern=PLOT_FIELD, max_length=200)] | None = Field(
        default=None, description="A swept axis or result field that colours the marks: one colour per value, "
        "or a colour scale for more than 12 numbers."
    )
    kind: Literal["scatter", "line"] = Field(
        default="scatter", description="scatter: one mark per point; line: the points joined in order of x."
    )
    log_x: bool = Field(default=False, description="A logarithmic x axis.")
    log_y: bool = Field(default=False, description="A logarithmic y axis.")
    title: Annotated[str, Field(max_length=200)] | None = Field(default=None, description="Default: 'y vs x'.")


class Report(Model):
    """Where the report goes, in which formats, and which plots the HTML report shows."""

    model_config = ConfigDict(revalidate_instances="always")  # the default resolves its dir too

    dir: RelativePath = Field(
        default=Path("reports"), validate_default=True, description="Folder, relative to the manifest."
    )
    formats: Annotated[list[ReportFormat], AfterValidator(_unique_formats)] = Field(
        default=["json", "csv", "md"], description="Any of json, csv, md, html."
    )
    plots: list[Plot] = Field(
        default=[],
        description="The HTML report's plots; empty: chosen from the data (each numeric result "
        "against each swept numeric axis, a heatmap, parallel coordinates, durations).",
    )
    download: bool | list[str] = Field(
        default=False,
        description="Download the jobs' output WorkData into <dir>/<batch>/ after apply "
        "(true: every output slot; a list: these slots), as `batchrun fetch` does.",
    )
    costs: bool = Field(
        default=False,
        description="Read what each finished job cost (CPU seconds, peak memory) from its Metrics into "
        "the report. Off by default: it costs one request per job, as much as the apply itself.",
    )

    @property
    def download_slots(self) -> list[str] | None:
        """The slots ``download`` asks for; None for all of them."""
        return None if self.download is True else list(self.download or [])


class Cleanup(Model):
    """What to delete once the batch is done."""

    after: Literal["never", "success", "always"] = Field(
        default="never", description="never; success: when every job succeeded; always."
    )
    delete_output_workdata: bool = Field(default=True, description="Delete work data the jobs produced.")
    delete_input_workdata: bool = Field(default=False, description="Delete work data the jobs consumed.")
    delete_subjobs_with_data: bool = Field(default=True, description="Delete sub-jobs and their work data.")


# -- the manifest -------------------------------------------------------------------------


Scalar = str | int | float | bool | None


class Manifest(Model):
    """A batch: one step, a parameter sweep, and how to run and report it."""

    model_config = ConfigDict(title="batchrun manifest", extra="forbid", frozen=True)

    version: Literal[1] = Field(description="Manifest format version; always 1.")
    batch: Annotated[str, Field(pattern=BATCH_NAME, max_length=100)] = Field(
        description="The batch's name: its ownership identity on the platform (letters, digits, . _ -)."
    )
    step: StepRef
    revision: Annotated[Scalar, AfterValidator(json_value)] = Field(
        default=None,
        description="Change it to rerun every point, e.g. a dataset snapshot id. Part of the spec hash.",
    )
    local: Local | None = None
    parameters: dict[ParameterName, JsonValue] = Field(default={}, description="Fixed for every job.")
    grid: GridSpec | None = Field(default=None, description="The sweep: a grid, or a list of grids (union).")
    points_file: ExistingFile | None = Field(
        default=None, description="Extra explicit points: CSV with a header row, or JSON Lines."
    )
    search: Search | None = Field(
        default=None,
        description="An adaptive search instead of grid and points_file: each trial one job "
        "(needs the search extra: pip install 'batchrun[search]').",
    )
    inputs: dict[ParameterName, InputBinding] = Field(
        default={}, description="The step's input data slots, by slot name: file, files, workdata or tags."
    )
    variables: list[ParameterName] = Field(
        default=[],
        description="Grid axes (or points-file columns) used only in templates (inputs, name, tags, folder): "
        "never sent to the step; what they select is part of the point's identity.",
    )
    max_jobs: StrictPositive = Field(
        default=DEFAULT_MAX_JOBS, le=MAX_JOBS_CEILING, description="Refuse to expand to more jobs than this."
    )
    name: Template = Field(
        default="{{ batch }}-{{ index }}",
        description="Jinja2 template of each job's name; variables: every parameter, params, batch, index, key.",
    )
    tags: list[TagTemplate] = Field(
        default=[], description="Jinja2 templates of extra job tags ('key' or 'key=value')."
    )
    folder: FolderTemplate | None = Field(
        default=None,
        description="Folder the batch files its new jobs in, made when missing: an absolute path, a Jinja2 "
        "template like name (e.g. '/sweeps/{{ batch }}'). Filing is not part of a job's identity.",
    )
    execution: Execution = Execution()
    report: Report = Field(default=Report(), validate_default=True)
    cleanup: Cleanup = Cleanup()

    _source_path: Path | None = PrivateAttr(default=None)
    _source_map: SourceMap | None = PrivateAttr(default=None)
    _expansions: dict[str | None, tuple[JobSpec, ...]] = PrivateAttr(default_factory=dict)

    def attach_source(self, path: Path, source_map: SourceMap) -> None:
        """Remember the file this was read from and where each value was written."""
        self._source_path = path
        self._source_map = source_map

    def locate(self, path: FieldPath, *, key: bool = False) -> Location:
        """Where the value (or the key) at ``path`` was written, for error messages."""
        if self._source_map is None:
            return Location(str(self.source_path))
        return self._source_map.locate(path, key=key)

    def expanded(self, version: str | None, expand: Callable[[], list[JobSpec]]) -> list[JobSpec]:
        """The job specs for a step ``version``, expanded once: a command checks the manifest
        before connecting and plans with the same points (a frozen manifest cannot change)."""
        if version not in self._expansions:
            with paused():  # the specs are kept: the collector would only walk them again and again
                self._expansions[version] = tuple(expand())
        return list(self._expansions[version])

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

    def swept_axes(self) -> list[str]:
        """The grids' axes in written order (zipped members in place), variables left out."""
        names: dict[str, None] = {}
        for grid in self.grids():
            for axis in grid.axes():
                names.update(dict.fromkeys(axis if isinstance(axis, tuple) else (axis,)))
        return [name for name in names if name not in self.variables]

    def logspace_axes(self) -> set[str]:
        """Axes some grid generates with ``logspace``."""
        return {name for grid in self.grids() for name in grid.logspace_axes()}
