"""Grid algebra: a validated manifest → the list of fully resolved job specs.

The order is fixed and documented, so what runs is never a surprise:

1. Each grid: the cartesian product of its axes in written order, the last key varying
   fastest. A ``zip`` group is one axis whose values are paired rows.
2. ``exclude``: drop every product point matching all keys of any entry. An entry must
   name axes of its grid and match at least one point.
3. ``include``: append full points (every axis given), never merged with other points.
4. Grids of a list are concatenated in order (union); ``points_file`` rows come last.
5. Every point is merged with the fixed ``parameters``; a key both fixed and swept is an
   error. No grid and no points file means one job with the fixed parameters.
6. Each job gets its key and spec hash; identical points are an error naming both.
7. ``name``, ``tags`` and ``folder`` are rendered; two jobs with the same name are an error.

Nothing here talks to a server.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
from collections.abc import Callable, Iterator
from typing import Any

from batchrun.identity import (
    TAG_PREFIX,
    UNRESOLVED_VERSION,
    JobSpec,
    PointHasher,
    SlotInput,
    canonical_json,
    trial_tag,
)
from batchrun.manifest.errors import FieldPath, Issue, Location, ManifestError, did_you_mean, format_path
from batchrun.manifest.fields import canonical_folder, folder_path_problem
from batchrun.manifest.grid import Grid
from batchrun.manifest.inputs import InputError, InputRenderer
from batchrun.manifest.models import MAX_JOBS_CEILING, Manifest
from batchrun.manifest.points import SUFFIXES, read_points
from batchrun.manifest.search import Dimension
from batchrun.manifest.templating import TemplateFailure, compile_template, is_constant, template_names

_MAX_REPORTED = 10

Point = dict[str, Any]
Origin = tuple[FieldPath | Location, int | None]
"""Where a point came from: a grid path and its product position, an include path, or a file row."""


class _Issues(list[Issue]):
    def __init__(self, manifest: Manifest) -> None:
        super().__init__()
        self.manifest = manifest

    def at(self, path: FieldPath, message: str, *, key: bool = False) -> None:
        self.append(Issue(self.manifest.locate(path, key=key), format_path(path), message))

    def raise_any(self) -> None:
        if self:
            raise ManifestError(self)


def _grid_paths(manifest: Manifest) -> list[tuple[FieldPath, Grid]]:
    grids = manifest.grids()
    if isinstance(manifest.grid, list):
        return [(("grid", index), grid) for index, grid in enumerate(grids)]
    return [(("grid",), grid) for grid in grids]


def _columns(grid: Grid) -> list[list[Point]]:
    """One list of fragments per axis; a zip group's fragments carry all its names."""
    columns = []
    for axis in grid.axes():
        names = axis if isinstance(axis, tuple) else (axis,)
        rows = zip(*(grid.axis(name) for name in names), strict=True)  # the grid checks zip groups' lengths
        columns.append([dict(zip(names, row, strict=True)) for row in rows])
    return columns


def _axis_path(grid: Grid, gpath: FieldPath, name: str) -> FieldPath:
    return (*gpath, "zip", name) if grid.zip and name in grid.zip else (*gpath, name)


def _check_grid(issues: _Issues, gpath: FieldPath, grid: Grid) -> None:
    """Keys of exclude/include entries, fixed-vs-swept overlaps, empty grids."""
    names = [name for axis in grid.axes() for name in (axis if isinstance(axis, tuple) else (axis,))]
    fixed = issues.manifest.parameters
    if not names and not grid.include:
        issues.at(gpath, "this grid has no axes and no include entries; add an axis such as lr: [0.1, 0.01]")
    for name in names:
        if name in fixed:
            message = f"{name!r} is both fixed in parameters and swept here; remove it from one of them"
            issues.at(_axis_path(grid, gpath, name), message, key=True)
    listing = ", ".join(names) or "none"
    for index, entry in enumerate(grid.exclude):
        if not entry:
            issues.at((*gpath, "exclude", index), "an empty exclude entry would drop every point; remove it")
        for name in entry:
            if name not in names:
                message = f"{name!r} is not an axis of this grid{did_you_mean(name, names)}; axes: {listing}"
                issues.at((*gpath, "exclude", index, name), message, key=True)
    for index, entry in enumerate(grid.include):
        path = (*gpath, "include", index)
        for name in entry:
            if name in fixed:
                issues.at((*path, name), f"{name!r} is fixed in parameters; an include entry gives only axes",
                          key=True)
            elif names and name not in names:
                message = f"{name!r} is not an axis of this grid{did_you_mean(name, names)}; axes: {listing}"
                issues.at((*path, name), message, key=True)
        missing = [name for name in names if name not in entry]
        if missing:
            issues.at(path, f"lacks {', '.join(missing)}; an include entry is a full point: give every axis "
                      f"({listing})")


def _grid_size(grid: Grid) -> int:
    axes = grid.axes()
    product = math.prod(len(grid.axis(axis[0] if isinstance(axis, tuple) else axis)) for axis in axes)
    return (product if axes else 0) + len(grid.include)


def _exclusions(grid: Grid, columns: list[list[Point]]) -> list[list[tuple[int, set[int]]]]:
    """Per exclude entry: for each axis it constrains, the positions of matching fragments."""
    constraints = []
    for entry in grid.exclude:
        wanted = {name: canonical_json(value) for name, value in entry.items()}
        constraint = []
        for position, column in enumerate(columns):
            names = [name for name in column[0] if name in wanted]
            if names:
                matching = {
                    index
                    for index, fragment in enumerate(column)
                    if all(canonical_json(fragment[name]) == wanted[name] for name in names)
                }
                constraint.append((position, matching))
        constraints.append(constraint)
    return constraints


def _grid_points(issues: _Issues, gpath: FieldPath, grid: Grid) -> Iterator[tuple[Point, Origin]]:
    columns = _columns(grid)
    if columns:
        constraints = _exclusions(grid, columns)
        hits = [0] * len(constraints)
        for ordinal, indices in enumerate(itertools.product(*(range(len(column)) for column in columns))):
            excluded = False
            for entry, constraint in enumerate(constraints):
                if all(indices[position] in matching for position, matching in constraint):
                    hits[entry] += 1
                    excluded = True
            if not excluded:
                point: Point = {}
                for position, index in enumerate(indices):
                    point.update(columns[position][index])
                yield point, (gpath, ordinal)
        for entry, count in enumerate(hits):
            if count == 0:
                issues.at((*gpath, "exclude", entry), "matches no point of this grid; fix its values or remove it")
    for position, point in enumerate(grid.include):
        yield dict(point), ((*gpath, "include", position), None)


def _file_points(issues: _Issues, limit: int) -> Iterator[tuple[Point, Origin]]:
    manifest = issues.manifest
    path = manifest.points_file
    if path is None:
        return
    if path.suffix.lower() not in SUFFIXES:
        issues.at(("points_file",), f"unsupported file type {path.suffix!r}; use .csv, .jsonl or .ndjson")
        return
    try:
        rows = read_points(path, os.path.relpath(path), limit)
    except OSError as error:
        issues.at(("points_file",), f"cannot read {path}: {error.strerror}")
        return
    except ManifestError as error:
        issues.extend(error.issues)
        return
    fixed = manifest.parameters
    for point, location in rows:
        for name in point:
            if name in fixed:
                issues.append(Issue(location, name, f"{name!r} is fixed in parameters; remove it from the file"))
        yield point, (location, None)


def _check_size(manifest: Manifest) -> int:
    """Check every grid and the total against max_jobs before any point is made; the grids' size."""
    issues = _Issues(manifest)
    grids = _grid_paths(manifest)
    for gpath, grid in grids:
        _check_grid(issues, gpath, grid)
    total = sum(_grid_size(grid) for _, grid in grids)
    if total > manifest.max_jobs:
        remedy = (
            f"or raise the cap with max_jobs: {total} (or --set max_jobs={total})"
            if total <= MAX_JOBS_CEILING
            else f"or split it into several batches: one manifest expands to at most {MAX_JOBS_CEILING:,} jobs"
        )
        issues.at(
            ("grid",),
            f"expands to {total:,} points, more than max_jobs ({manifest.max_jobs:,}); narrow the grid, {remedy}",
            key=True,
        )
    issues.raise_any()
    return total


def _points(issues: _Issues, grids_size: int) -> Iterator[tuple[Point, Origin]]:
    """Every point in the documented order, with where it came from; problems go to ``issues``."""
    manifest = issues.manifest
    grids = _grid_paths(manifest)
    if not grids and manifest.points_file is None:
        yield {}, (("parameters",), None)
        return
    sources = [_grid_points(issues, gpath, grid) for gpath, grid in grids]
    sources.append(_file_points(issues, manifest.max_jobs - grids_size))
    yield from itertools.chain.from_iterable(sources)


def _nth_point(manifest: Manifest, grids_size: int, index: int) -> tuple[Point, Origin]:
    """Point ``index`` again, by walking the points anew: error messages name a point long
    since streamed, and holding every point for them would cost more than the walk."""
    return next(itertools.islice(_points(_Issues(manifest), grids_size), index, None))


def _where(manifest: Manifest, origin: Origin) -> Location:
    place, _ = origin
    return place if isinstance(place, Location) else manifest.locate(place)


def _describe(manifest: Manifest, index: int, origin: Origin) -> str:
    place, ordinal = origin
    if isinstance(place, Location):
        return f"job {index} ({place})"
    if ordinal is not None:
        return f"job {index} ({format_path(place)} product point {ordinal})"
    return f"job {index} ({format_path(place)}, line {manifest.locate(place).line})"


def _not_text(manifest: Manifest, index: int, origin: Origin, parameters: Point) -> str:
    """Why a point's key cannot be made: a string holds half of a UTF-16 surrogate pair (a JSON
    or YAML escape such as ``\\ud800``), which the key's UTF-8 cannot write."""
    names = [repr(name) for name, value in parameters.items() if not _utf8(canonical_json(value))]
    holder = f"parameter {', '.join(names)}" if names else "an input"
    return (f"{_describe(manifest, index, origin)}: {holder} holds half of a UTF-16 surrogate pair (an escape "
            "such as \\ud800), not a character; write the character itself")


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(point: Point) -> str:
    text = ", ".join(f"{name}={value!r}" for name, value in point.items())
    return text if len(text) <= 80 else text[:77] + "..."


def _variables(manifest: Manifest, index: int, key: str, parameters: Point, point: Point | None = None
               ) -> dict[str, Any]:
    return {**(point or parameters), "params": parameters, "batch": manifest.batch, "index": index, "key": key}


def _check_variables(issues: _Issues) -> None:
    """Each variable is an axis or a column of some point, not fixed, and read by a template."""
    manifest = issues.manifest
    if not manifest.variables:
        return
    sources = [manifest.name, *manifest.tags, *([manifest.folder] if manifest.folder else [])]
    for binding in manifest.inputs.values():
        value = getattr(binding, binding.kind)
        sources += value if isinstance(value, list) else [value]
    used: set[str] = set()
    for source in sources:
        used |= template_names(source)
    axes = sorted(_axis_names(manifest))
    if len(set(manifest.variables)) != len(manifest.variables):
        issues.at(("variables",), "a variable is listed twice; list each once")
    for position, name in enumerate(manifest.variables):
        path = ("variables", position)
        if name in manifest.parameters:
            issues.at(path, f"{name!r} is fixed in parameters; a variable is a grid axis or points-file column")
        elif name not in axes:
            listing = ", ".join(axes) or "none"
            issues.at(path, f"{name!r} is not a grid axis or points-file column{did_you_mean(name, axes)}; "
                      f"axes: {listing}")
        elif name not in used:
            issues.at(path, f"{name!r} is used by no template (inputs, name, tags, folder); use it, e.g. "
                      f"file: \"data/{{{{ {name} }}}}.csv\", or remove it from variables")


def _axis_names(manifest: Manifest) -> dict[str, None]:
    """The names points give, in first-seen order, without expanding: each grid's axes and
    include entries, then the points file's columns (read once more; it is only a file)."""
    names: dict[str, None] = {}
    for _, grid in _grid_paths(manifest):
        for axis in grid.axes():
            names.update(dict.fromkeys(axis if isinstance(axis, tuple) else (axis,)))
        for entry in grid.include:
            names.update(dict.fromkeys(entry))
    for point, _ in _file_points(_Issues(manifest), manifest.max_jobs):
        names.update(dict.fromkeys(point))
    return names


class _Renderer:
    """Renders one template for every job; records the first failure and then stops trying."""

    def __init__(self, issues: _Issues, path: FieldPath, source: str) -> None:
        self.issues, self.path = issues, path
        self.render = compile_template(source)
        self.failed = False

    def folder(self, index: int, variables: dict[str, Any]) -> str:
        """Render as a folder path: absolute, one name per segment; canonical (``/a/b/``)."""
        path = self(index, variables)
        problem = None if self.failed else folder_path_problem(path)
        if problem is not None:
            self.failed = True
            self.issues.at(self.path, f"renders to {path!r} for job {index}, but a folder path {problem}")
        return canonical_folder(path)

    def tag(self, index: int, variables: dict[str, Any]) -> str:
        """Render as a tag: not empty, not in batchrun's reserved namespace."""
        tag = self(index, variables)
        if not self.failed and (not tag.strip() or tag.startswith(TAG_PREFIX)):
            self.failed = True
            problem = "an empty tag" if not tag.strip() else f"{tag!r}, in the reserved 'batchrun.' namespace"
            self.issues.at(self.path, f"renders to {problem} for job {index}; change the template")
        return tag

    def __call__(self, index: int, variables: dict[str, Any]) -> str:
        if self.failed:
            return ""
        try:
            return self.render(variables)
        except TemplateFailure as error:
            self.failed = True
            shown = _shown(variables["params"])
            self.issues.at(self.path, f"{error} (rendering job {index}{': ' + shown if shown else ''})")
            return ""


def _digest(name: str) -> bytes:
    """What is held of a name to find two jobs named alike: 16 bytes however long the name,
    and two names match by chance far less often than two keys (8 bytes) do."""
    return hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _check_names(issues: _Issues, shared: dict[str, list[int]], parameters: Callable[[list[int]], list[Point]]
                 ) -> None:
    """One issue for all name collisions: the first shared name, its jobs, what differs.

    ``shared`` holds only the names given to more than one job; ``parameters`` recomputes
    the parameters of the jobs named (they were not kept).
    """
    if not shared:
        return
    indices = min(shared.values(), key=lambda group: group[0])
    base, *others = parameters(indices)
    differing = sorted({field for point in others for field, value in point.items() if base.get(field) != value})
    shown = [str(index) for index in indices[:5]]
    rest = len(indices) - len(shown)
    jobs = ", ".join(shown) + f" and {rest} more" if rest else ", ".join(shown[:-1]) + f" and {shown[-1]}"
    total = sum(map(len, shared.values()))
    name = next(name for name, group in shared.items() if group is indices)
    issues.at(("name",), f"{total} jobs share a name, e.g. jobs {jobs} render to {name!r}; "
              f"put what differs ({', '.join(differing) or 'the index'}) into the name template")


def is_result_field(name: str) -> bool:
    """``result`` (a scalar result) or ``result.<field>`` (a field of a dict result)."""
    return name == "result" or name.startswith("result.")


def _check_plots(issues: _Issues) -> None:
    """Every name in ``report.plots`` is a swept axis or a result field (``y``: a result field)."""
    manifest = issues.manifest
    if not manifest.report.plots:
        return
    axes = [name for name in _axis_names(manifest) if name not in manifest.variables]
    for position, plot in enumerate(manifest.report.plots):
        for role in ("x", "y", "color"):
            name = getattr(plot, role)
            if name is None or is_result_field(name) or (role != "y" and name in axes):
                continue
            if role == "y":
                message = f"{name!r} is not a result field; use result or result.<field> for the step's result"
            else:
                known = f"; swept axes: {', '.join(axes)}" if axes else ""
                message = (f"{name!r} is not a swept axis or a result field{did_you_mean(name, axes)}; use an axis "
                           f"of the grid, or result or result.<field> for the step's result{known}")
            issues.at(("report", "plots", position, role), message)


def _version(manifest: Manifest, step_version: str | None) -> str | None:
    written = manifest.step.version
    if written is not None and step_version is not None and step_version != written:
        raise ValueError(f"step version {step_version!r} contradicts the manifest's {written!r}")
    return written or step_version


def expand(manifest: Manifest, *, step_version: str | None = None) -> list[JobSpec]:
    """Expand ``manifest`` into job specs, in the documented order; raises ManifestError.

    ``step_version`` is the version resolved on the platform when the manifest leaves
    ``step.version`` out; until then keys are computed with the version ``"*"``. A search
    has no points before it runs: its manifest is checked and expands to none (its trials
    are made one at a time by :func:`expand_trial`).
    """
    version = _version(manifest, step_version)
    if manifest.search is not None:
        _check_search(manifest)
        return []
    return manifest.expanded(version, lambda: list(_specs(manifest, version)))


def expand_trial(manifest: Manifest, trial: int, point: Point, *, step_version: str | None = None) -> JobSpec:
    """The job spec of search trial number ``trial`` proposing ``point``: merged with the fixed
    parameters, keyed like a grid point (so an equal proposal is the same job), named and
    tagged from the templates, which also see ``trial``."""
    version = _version(manifest, step_version)
    issues = _Issues(manifest)
    parameters = {**point, **manifest.parameters}
    hasher = PointHasher(manifest.step.function, version or UNRESOLVED_VERSION, manifest.revision)
    key = hasher.key(parameters)
    variables = {**_variables(manifest, trial, key, parameters), "trial": trial}
    name = _Renderer(issues, ("name",), manifest.name)(trial, variables)
    tags = tuple(_Renderer(issues, ("tags", n), tag).tag(trial, variables) for n, tag in enumerate(manifest.tags))
    issues.raise_any()
    tags += (trial_tag(trial),)
    return JobSpec(trial, name, manifest.step.function, version, parameters, tags, key, hasher.spec(key))


def _check_search(manifest: Manifest) -> None:
    """What only the whole manifest shows: search replaces grid and points_file, its
    parameters are not fixed ones, it fits max_jobs, and the templates render a trial."""
    issues = _Issues(manifest)
    search = manifest.search
    assert search is not None
    for field in ("grid", "points_file", "inputs", "variables"):
        if getattr(manifest, field):
            why = ("search proposes the points: use search.space or a grid, not both" if field != "inputs"
                   and field != "variables" else f"{field} are not supported with search yet; remove them")
            issues.at((field,), why, key=True)
    for name in search.space:
        if name in manifest.parameters:
            issues.at(("search", "space", name), f"{name!r} is both fixed in parameters and searched here; "
                      "remove it from one of them", key=True)
    if search.budget > manifest.max_jobs:
        issues.at(("search", "budget"), f"{search.budget:,} trials are more than max_jobs "
                  f"({manifest.max_jobs:,}); lower the budget or raise max_jobs")
    issues.raise_any()
    sample = {name: _sample(dimension) for name, dimension in search.dimensions().items()}
    expand_trial(manifest, 0, sample)


def _sample(dimension: Dimension) -> Any:
    """A value a trial may propose for ``dimension`` (its lower end), to try the templates."""
    if dimension.kind == "categorical":
        return dimension.choices[0]
    return int(dimension.low) if dimension.kind == "int" else dimension.low


def stream_specs(manifest: Manifest, *, step_version: str | None = None) -> Iterator[JobSpec]:
    """The job specs of :func:`expand` one at a time, for batches too large to hold.

    Only what the checks across jobs need is kept (each key and name once). Nothing is
    yielded after the first problem is found; the ManifestError listing the problems is
    raised at the end of the pass, so a consumer that writes specs as they come must
    treat its output as void when it is raised (``expand`` and ``validate`` exit 2).
    """
    version = _version(manifest, step_version)
    if manifest.search is not None:  # a search has no points before it runs (see expand)
        _check_search(manifest)
        return iter(())
    return _specs(manifest, version)


def parameter_names(manifest: Manifest) -> list[str]:
    """Every parameter name of the batch in first-seen order, fixed parameters last, without expanding."""
    hidden = set(manifest.variables)
    swept = [name for name in _axis_names(manifest) if name not in hidden and name not in manifest.parameters]
    return swept + list(manifest.parameters)


def _specs(manifest: Manifest, version: str | None) -> Iterator[JobSpec]:
    grids_size = _check_size(manifest)
    issues = _Issues(manifest)
    _check_variables(issues)
    _check_plots(issues)
    issues.raise_any()
    function = manifest.step.function
    hidden = set(manifest.variables)
    fixed = manifest.parameters

    def visible(merged: Point) -> Point:
        return {name: value for name, value in merged.items() if name not in hidden} if hidden else merged

    def parameters_of(indices: list[int]) -> list[Point]:
        return [visible({**_nth_point(manifest, grids_size, index)[0], **fixed}) for index in indices]

    hasher = PointHasher(function, version or UNRESOLVED_VERSION, manifest.revision)
    inputs = InputRenderer(manifest) if manifest.inputs else None
    failed_inputs: set[FieldPath] = set()
    name = _Renderer(issues, ("name",), manifest.name)
    tags = [_Renderer(issues, ("tags", position), tag) for position, tag in enumerate(manifest.tags)]
    constant_tags = tuple(manifest.tags) if all(map(is_constant, manifest.tags)) else None
    folder = None if manifest.folder is None else _Renderer(issues, ("folder",), manifest.folder)
    seen_keys: dict[int, int] = {}  # a key as its number, the first job with it
    first_named: dict[bytes, int] = {}  # a name's digest, the first job given it
    shared: dict[str, list[int]] = {}
    index = -1
    for index, (point, origin) in enumerate(_points(issues, grids_size)):
        merged = {**point, **fixed}
        parameters = visible(merged)
        slot_inputs: tuple[SlotInput, ...] = ()
        if inputs is not None:
            try:
                slot_inputs = inputs(_variables(manifest, index, "", parameters, merged))
            except InputError as error:
                if error.path not in failed_inputs and len(issues) < _MAX_REPORTED:
                    failed_inputs.add(error.path)
                    shown = _shown(merged)
                    issues.at(error.path, f"{error.message} (job {index}{': ' + shown if shown else ''})")
                continue
        identities = None
        if slot_inputs:
            identities = {slot.slot: [source.identity for source in slot.sources] for slot in slot_inputs}
        try:
            key = hasher.key(parameters, identities)
        except UnicodeEncodeError:
            if len(issues) < _MAX_REPORTED:
                issues.append(Issue(_where(manifest, origin), "", _not_text(manifest, index, origin, parameters)))
            continue
        first = seen_keys.setdefault(int(key, 16), index)
        if first != index and len(issues) < _MAX_REPORTED:
            _, first_origin = _nth_point(manifest, grids_size, first)
            issues.append(Issue(
                _where(manifest, origin),
                "",
                f"duplicate point: {_describe(manifest, index, origin)} has the same "
                f"{'parameters and inputs' if slot_inputs else 'parameters'} as "
                f"{_describe(manifest, first, first_origin)} ({_shown(point)}); remove one",
            ))
        variables = _variables(manifest, index, key, parameters, merged)
        job_name = name(index, variables)
        job_tags = (
            tuple([render.tag(index, variables) for render in tags]) if constant_tags is None else constant_tags
        )
        job_folder = None if folder is None else folder.folder(index, variables)
        named_first = first_named.setdefault(_digest(job_name), index)
        if named_first != index:
            shared.setdefault(job_name, [named_first]).append(index)
        if not issues and not shared:
            yield JobSpec(index, job_name, function, version, parameters, job_tags, key, hasher.spec(key),
                          slot_inputs, job_folder)
    if index < 0 and not issues:
        issues.at(("grid",), "expands to no jobs (every point is excluded); relax the exclude entries", key=True)
    if not name.failed and not failed_inputs:
        _check_names(issues, shared, parameters_of)
    issues.raise_any()
