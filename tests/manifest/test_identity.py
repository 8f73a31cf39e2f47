"""Identity: canonical JSON and the hashes are fixed, so they are tested with literal values."""

from __future__ import annotations

import math

import pytest

from batchrun.identity import (
    TAG_ATTEMPT,
    TAG_BATCH,
    TAG_KEY,
    TAG_RUN,
    TAG_SPEC,
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


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, {1: "x"}, object(), {1, 2}])
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
