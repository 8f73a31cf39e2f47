"""The comparison of two sides, as values (no server needed): verdicts, fields, tolerance."""

from __future__ import annotations

import math

import pytest

from batchrun.diff import ABSENT, FieldDifference, Tolerance, Verdict, compare, differences
from batchrun.report import ReportJob
from batchrun.states import PointState


def row(key: str, state: str = "Completed", result: object = None, *, name: str | None = None,
        error: str | None = None) -> ReportJob:
    return ReportJob(index=0, name=name or f"point-{key}", key=key, parameters={}, state=state, result=result,
                     error=error)


def test_each_pairing_gets_its_verdict_and_reason():
    a = [row("k1", result=1), row("k2", result={"loss": 1}), row("k3", result=1), row("k4", state=PointState.NOT_CREATED),
         row("k5", "Error", error="Traceback\nValueError: boom"), row("k6", "Processing")]
    b = [row("k1", result=1), row("k2", result={"loss": 2}), row("k4", state=PointState.NOT_CREATED),
         row("k5", result=1), row("k6", result=1), row("k7", result=1), row("k3", state=PointState.NOT_CREATED)]
    result = compare(a, b)
    assert [(point.key, point.verdict) for point in result.points] == [
        ("k1", Verdict.EQUAL), ("k2", Verdict.DIFFERS), ("k3", Verdict.ONLY_IN_A), ("k4", Verdict.IN_NEITHER),
        ("k5", Verdict.FAILED), ("k6", Verdict.UNFINISHED), ("k7", Verdict.ONLY_IN_B)]
    reasons = {point.key: point.reason for point in result.points}
    assert reasons["k2"] == "1 field differs: result.loss"
    assert reasons["k5"] == "A ended Error: ValueError: boom"
    assert reasons["k6"] == "A is Processing: no result to compare yet"
    assert reasons["k3"] == "no job for this point on side B"
    assert not result.all_equal
    assert result.counts() == {"equal": 1, "differs": 1, "only-in-a": 1, "only-in-b": 1, "in-neither": 1,
                               "failed": 1, "unfinished": 1}
    assert compare(a[:1], b[:1]).all_equal


def test_a_point_keeps_side_a_s_name_and_a_missing_side_is_none():
    result = compare([row("k", name="old-name", result=1)], [row("k", name="new-name", result=1), row("j", result=2)])
    assert [point.name for point in result.points] == ["old-name", "point-j"]
    assert result.points[1].a is None and result.points[1].b is not None


def test_dict_results_differ_field_by_field_recursively():
    a = {"loss": 1.0, "metrics": {"acc": 0.9, "f1": [0.1, 0.2]}, "label": "x", "gone": 1}
    b = {"loss": 1.0, "metrics": {"acc": 0.8, "f1": [0.1, 0.3]}, "label": "x", "new": None}
    assert differences(a, b) == (
        FieldDifference("result.metrics.acc", 0.9, 0.8),
        FieldDifference("result.metrics.f1[1]", 0.2, 0.3),
        FieldDifference("result.gone", 1, ABSENT),
        FieldDifference("result.new", ABSENT, None),
    )


@pytest.mark.parametrize(("a", "b", "equal"), [
    (1, 1.0, True),                  # one number, as canonical JSON has it
    (True, 1, False),                # true is not 1
    ("1", 1, False),
    (None, None, True),
    ([1, 2], [1, 2, 3], False),      # lists of other lengths differ as a whole
    (2**60, 2**60 + 1, False),       # ints compared exactly, never through floats
    (math.nan, math.nan, True),      # a reproduced NaN is a reproduced result
    ({}, {}, True),
])
def test_exact_comparison(a, b, equal):
    assert (differences(a, b) == ()) is equal


def test_lists_of_other_lengths_are_one_difference():
    assert differences({"xs": [1]}, {"xs": [1, 2]}) == (FieldDifference("result.xs", [1], [1, 2]),)


def test_tolerance_is_relative_to_the_larger_magnitude_or_absolute():
    assert differences(100.0, 100.5, Tolerance(rtol=0.01)) == ()
    assert differences(100.0, 102.0, Tolerance(rtol=0.01)) != ()
    assert differences(0.0, 1e-9, Tolerance(rtol=0.5)) != ()  # relative alone never reaches 0
    assert differences(0.0, 1e-9, Tolerance(atol=1e-8)) == ()
    assert differences(True, 1, Tolerance(atol=1)) != ()  # booleans are not numbers
    assert differences("a", "b", Tolerance(atol=1)) != ()


def test_deeply_nested_results_do_not_hit_the_recursion_limit():
    a: dict = {}
    b: dict = {}
    deep_a, deep_b = a, b
    for _ in range(5000):
        deep_a["n"], deep_b["n"] = {}, {}
        deep_a, deep_b = deep_a["n"], deep_b["n"]
    deep_b["v"] = 1
    (found,) = differences(a, b)
    assert found.field.endswith(".n.v") and found.b == 1
