"""Property tests of the grid algebra against a direct reference implementation."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchrun.identity import canonical_json
from batchrun.manifest import ManifestError, expand
from tests.manifest.support import manifest

NAMES = ["a", "b", "c", "d", "e"]
values = st.lists(st.integers(-5, 5), min_size=1, max_size=4, unique=True)


@st.composite
def grids(draw: st.DrawFn, offset: int = 0) -> dict[str, Any]:
    """A grid of 1-3 plain axes, maybe a zip group, maybe exclude and include entries."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    grid: dict[str, Any] = {}
    zipped = names[-2:] if len(names) >= 3 and draw(st.booleans()) else []
    for name in names:
        if name not in zipped:
            grid[name] = [value + offset for value in draw(values)]
    if zipped:
        length = draw(st.integers(1, 3))
        grid["zip"] = {name: [offset + 10 * index + n for n in range(length)] for index, name in enumerate(zipped)}
    axis_values = {name: grid[name] if name in grid else grid["zip"][name] for name in names}
    entries = st.dictionaries(st.sampled_from(names), st.integers(-5, 40), min_size=1, max_size=2)
    exclude = draw(st.lists(entries, max_size=2))
    grid["exclude"] = [{k: v if v in axis_values[k] else axis_values[k][0] for k, v in e.items()} for e in exclude]
    grid["include"] = draw(st.lists(st.fixed_dictionaries({name: st.integers(100, 200) for name in names}),
                                    max_size=2, unique_by=canonical_json))
    return grid


def reference(grid: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Points by the documented rules; None where the manifest must be rejected."""
    axes: list[list[dict[str, Any]]] = []
    for name, axis in grid.items():
        if name == "zip":
            axes.append([dict(zip(axis, row, strict=True)) for row in zip(*axis.values(), strict=True)])
        elif name not in ("exclude", "include"):
            axes.append([{name: value} for value in axis])
    product = [{k: v for part in combo for k, v in part.items()} for combo in itertools.product(*axes)]
    matches = [[p for p in product if all(p[k] == v for k, v in entry.items())] for entry in grid["exclude"]]
    if any(not hits for hits in matches):
        return None
    kept = [p for p in product if not any(p in hits for hits in matches)]
    points = kept + grid["include"]
    keys = [canonical_json(p) for p in points]
    return points if points and len(set(keys)) == len(keys) else None


@settings(max_examples=200, deadline=None)
@given(grids())
def test_expansion_matches_the_reference(grid: dict[str, Any]) -> None:
    expected = reference(grid)
    if expected is None:
        with pytest.raises(ManifestError):
            expand(manifest(grid=grid))
        return
    jobs = expand(manifest(grid=grid))
    assert [job.parameters for job in jobs] == expected
    assert [job.index for job in jobs] == list(range(len(expected)))


@settings(max_examples=100, deadline=None)
@given(grids())
def test_count_is_product_minus_excluded_plus_included(grid: dict[str, Any]) -> None:
    plain = {k: v for k, v in grid.items() if k not in ("exclude", "include")}
    sizes = [len(next(iter(v.values()))) if k == "zip" else len(v) for k, v in plain.items()]
    unfiltered = expand(manifest(grid=plain))
    assert len(unfiltered) == math.prod(sizes)
    expected = reference(grid)
    if expected is not None:
        excluded = sum(1 for job in unfiltered if any(
            all(job.parameters[k] == v for k, v in entry.items()) for entry in grid["exclude"]))
        assert len(expand(manifest(grid=grid))) == math.prod(sizes) - excluded + len(grid["include"])


@settings(max_examples=100, deadline=None)
@given(grids(), st.randoms(use_true_random=False))
def test_keys_are_unique_deterministic_and_independent_of_axis_order(grid: dict[str, Any], rng: Any) -> None:
    if reference(grid) is None:
        return
    jobs = expand(manifest(grid=grid))
    keys = [job.key for job in jobs]
    assert len(set(keys)) == len(keys)
    assert keys == [job.key for job in expand(manifest(grid=grid))]
    shuffled = list(grid.items())
    rng.shuffle(shuffled)
    assert sorted(job.key for job in expand(manifest(grid=dict(shuffled)))) == sorted(keys)


@settings(max_examples=100, deadline=None)
@given(grids(), grids(offset=1000))
def test_a_list_of_grids_expands_to_the_concatenation(first: dict[str, Any], second: dict[str, Any]) -> None:
    second["include"] = [{k: v + 1000 for k, v in point.items()} for point in second["include"]]
    if reference(first) is None or reference(second) is None:
        return
    union = [job.parameters for job in expand(manifest(grid=[first, second]))]
    assert union == [job.parameters for job in expand(manifest(grid=first))] + [
        job.parameters for job in expand(manifest(grid=second))]


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(NAMES), st.lists(st.integers(0, 3), min_size=1, max_size=4), min_size=2,
                       max_size=3))
def test_zip_lists_of_unequal_length_are_rejected(group: dict[str, list[int]]) -> None:
    group = {name: list(dict.fromkeys(values)) for name, values in group.items()}
    lengths = {len(values) for values in group.values()}
    if len(lengths) == 1:
        assert len(expand(manifest(grid={"zip": group}))) == lengths.pop()
    else:
        with pytest.raises(ManifestError, match="zipped lists must have equal length"):
            expand(manifest(grid={"zip": group}))
