"""Identity: canonical JSON and the hashes are fixed, so they are tested with literal values."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batchrun.identity import (
    TAG_ATTEMPT,
    TAG_BATCH,
    TAG_KEY,
    TAG_RUN,
    TAG_SPEC,
    PointHasher,
    canonical_json,
    job_key,
    ownership_tags,
    spec_hash,
)


def test_canonical_json_sorts_keys_and_normalises_numbers() -> None:
    value = {"b": [1.0, 2.5, -0.0, True, None], "a": "é", "c": {"z": 1e20, "y": 1e-7, "x": 3}}
    assert canonical_json(value) == '{"a":"é","b":[1,2.5,0,true,null],"c":{"x":3,"y":1e-07,"z":1e+20}}'


def test_canonical_json_keeps_booleans_apart_from_numbers() -> None:
    assert canonical_json([True, 1, 1.0]) == "[true,1,1]"


def test_canonical_json_treats_tuples_as_lists() -> None:
    assert canonical_json((1, "a")) == canonical_json([1, "a"]) == '[1,"a"]'


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, {1: "x"}, {1: "x", "a": 1}, {"a": math.nan},
                                 object(), {1, 2}])
def test_canonical_json_refuses_what_json_cannot_hold(bad: object) -> None:
    with pytest.raises(ValueError):
        canonical_json(bad)


def test_job_key_is_fixed_for_known_inputs() -> None:
    assert job_key("train", "1.0.0", {"lr": 0.1, "depth": 3}) == "7624a6e4744359f3"
    assert job_key("train", "*", {"lr": 0.1, "depth": 3}) == "5ae9e5ec229f45a6"
    assert job_key("train", "1.0.0", {}) == "9484a34b77d6a836"


def test_job_key_ignores_key_order_and_integral_float_spelling() -> None:
    expected = job_key("train", "1.0.0", {"lr": 0.1, "depth": 3})
    assert job_key("train", "1.0.0", {"depth": 3, "lr": 0.1}) == expected
    assert job_key("train", "1.0.0", {"depth": 3.0, "lr": 0.1}) == expected


def test_job_key_changes_with_function_version_and_values() -> None:
    base = job_key("train", "1.0.0", {"lr": 0.1})
    others = {
        job_key("evaluate", "1.0.0", {"lr": 0.1}),
        job_key("train", "1.0.1", {"lr": 0.1}),
        job_key("train", "1.0.0", {"lr": 0.2}),
        job_key("train", "1.0.0", {"lr": "0.1"}),
    }
    assert base not in others and len(others) == 4


def test_spec_hash_is_fixed_and_follows_the_revision() -> None:
    key = "7624a6e4744359f3"
    assert spec_hash(key) == "cdb5378304fafd19"
    assert spec_hash(key, "dataset-2024-06") == "8a79e3fdca38c434"
    assert spec_hash(key, 2) == "0f80089115da7351"


def test_ownership_tags_name_batch_key_spec_run_and_attempt() -> None:
    tags = ownership_tags("lr-sweep", "7624a6e4744359f3", "cdb5378304fafd19", "1", 2)
    assert tags == [
        f"{TAG_BATCH}=lr-sweep",
        f"{TAG_KEY}=7624a6e4744359f3",
        f"{TAG_SPEC}=cdb5378304fafd19",
        f"{TAG_RUN}=1",
        f"{TAG_ATTEMPT}=2",
    ]


def _documented_hash(value: Any) -> str:
    """The rule as written: sha256 of the canonical JSON, first 16 hex characters."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:16]


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                     st.text())
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner,
                                                                                                max_size=3),
                       max_leaves=8)


@given(function=st.text(), version=st.text(), parameters=st.dictionaries(st.text(), _values, max_size=5),
       inputs=st.none() | st.dictionaries(st.text(), st.lists(st.text(), max_size=2), max_size=2),
       revision=_scalars)
def test_point_hasher_hashes_exactly_the_documented_objects(function: str, version: str,
                                                           parameters: dict[str, Any],
                                                           inputs: dict[str, list[str]] | None,
                                                           revision: Any) -> None:
    hasher = PointHasher(function, version, revision)
    documented = {"function": function, "version": version, "parameters": parameters}
    if inputs:
        documented["inputs"] = inputs
    key = hasher.key(parameters, inputs)
    assert key == _documented_hash(documented) == job_key(function, version, parameters, inputs)
    assert hasher.spec(key) == _documented_hash({"format": 1, "key": key, "revision": revision}) == spec_hash(
        key, revision)


def _reference_normalise(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {name: _reference_normalise(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_reference_normalise(item) for item in value]
    return value


@given(value=_values)
def test_canonical_json_is_json_dumps_of_the_normalised_value(value: Any) -> None:
    written = json.dumps(_reference_normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(value) == written


_recurring = st.sampled_from([0, 1, -1, 1.0, 0.0, -0.0, 0.5, 2**60, 1e16, True, False, None, "1", "é", ""])


@given(points=st.lists(st.dictionaries(st.sampled_from(["a", "b", "lr", "é"]), _recurring | _values, max_size=4),
                       max_size=8))
def test_one_hasher_keys_points_whose_values_recur_as_the_documented_objects(points: list[dict[str, Any]]) -> None:
    """The hasher keeps each parameter's text for the points after it: 1, 1.0 and true stay apart."""
    hasher = PointHasher("train", "1.0.0")
    keys = [hasher.key(point) for point in points]
    assert keys == [_documented_hash({"function": "train", "version": "1.0.0", "parameters": point})
                    for point in points]


def test_a_hasher_that_has_seen_a_value_still_refuses_what_json_cannot_hold() -> None:
    hasher = PointHasher("train", "1.0.0")
    hasher.key({"a": 1})
    for bad in ({1: "x", "a": 1}, {"a": 1, "b": math.inf}, {"a": 1, "b": object()}):
        with pytest.raises(ValueError):
            hasher.key(bad)
