"""Parameter checks against a step's JSON schema, with messages that name the parameter."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from batchrun import parameters
from batchrun.parameters import ParameterCheck, _location, _messages, parameter_errors

SCHEMA = {
    "type": "object",
    "properties": {
        "text": {"type": "string"},
        "times": {"type": "integer", "default": 1},
        "box": {"type": "object", "properties": {"size": {"type": "array", "items": {"type": "integer"}}}},
    },
    "required": ["text"],
    "additionalProperties": False,
}


def test_valid_parameters_have_no_errors() -> None:
    assert parameter_errors(SCHEMA, {"text": "a", "box": {"size": [1, 2]}}) == []


def test_every_problem_names_its_parameter() -> None:
    errors = parameter_errors(SCHEMA, {"times": "x", "colour": "red", "box": {"size": [1, "two"]}})

    assert errors == [
        "missing required parameter 'text'",
        "unknown parameter 'colour' (expected: box, text, times)",
        "parameter 'box.size[1]': 'two' is not of type 'integer'",
        "parameter 'times': 'x' is not of type 'integer'",
    ]


def test_a_step_without_parameters_takes_none() -> None:
    assert parameter_errors(None, {}) == []
    assert parameter_errors(None, {"x": 1}) == ["unknown parameter 'x' (this step takes no parameters)"]


# A compiled check gives exactly the messages of the whole schema, whichever path it takes.

LEVELS = {
    "type": "object",
    "$id": "https://example.test/levels",
    "$defs": {"level": {"enum": ["low", "high"]}, "count": {"type": "integer", "minimum": 0}},
    "properties": {"level": {"$ref": "#/$defs/level"}, "count": {"$ref": "#/$defs/count"}},
    "required": ["level"],
    "title": "levels",
}
ENUMS = {
    "type": "object",
    "properties": {"choice": {"enum": [1, "one", None, [1, 2]]}, "flag": {"const": True},
                   "ratio": {"enum": [0.5, 2]}},
}
NESTED = {
    "type": "object",
    "properties": {
        "opt": {"type": "object", "properties": {"lr": {"type": "number", "exclusiveMinimum": 0},
                                                 "layers": {"type": "array", "items": {"type": "integer"},
                                                            "minItems": 1}},
                "required": ["lr"], "additionalProperties": False},
        "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    },
    "required": ["opt"],
    "additionalProperties": False,
}
OTHERS_NUMBERS = {
    "type": "object",
    "properties": {"name": {"type": "string", "minLength": 1}},
    "additionalProperties": {"type": "number", "minimum": -1, "maximum": 1},
}
OTHERS_ALLOWED = {
    "type": "object",
    "properties": {"x": {"type": "integer", "minimum": 0, "maximum": 10}, "y": {"type": "number",
                                                                               "multipleOf": 0.5}},
    "required": ["x"],
    "additionalProperties": True,
}
ALL_OF = {"allOf": [{"type": "object", "properties": {"x": {"type": "integer"}}}, {"required": ["x", "y"]}]}
SELF_REFERENCE = {  # "#" is the root with its required names, so the pairs alone would miss them
    "type": "object",
    "properties": {"x": {"type": "integer"}, "child": {"$ref": "#"}},
    "required": ["x"],
}
COUNTED = {"type": "object", "properties": {"x": {"type": "integer"}}, "minProperties": 2}
PATTERNED = {"type": "object", "properties": {"x": {"type": "integer"}},
             "patternProperties": {"^y": {"type": "string"}}, "additionalProperties": False}
DEPENDENT = {"type": "object", "properties": {"x": {"type": "integer"}}, "dependentRequired": {"x": ["y"]}}
TYPED = {  # what a step's plain int/float/str/bool/None parameters become, and two that are not only a type
    "type": "object",
    "properties": {"i": {"type": "integer", "title": "I", "default": 0}, "n": {"type": "number"},
                   "s": {"type": "string", "description": "text"}, "b": {"type": "boolean"}, "z": {"type": "null"},
                   "u": {"type": ["integer", "null"]}, "m": {"type": "integer", "minimum": 0}},
    "required": ["i"],
    "additionalProperties": False,
}

PER_PARAMETER = {"typed": TYPED, "levels": LEVELS, "enums": ENUMS, "nested": NESTED, "others-numbers": OTHERS_NUMBERS,
                 "others-allowed": OTHERS_ALLOWED, "existing": SCHEMA}
WHOLE = {"all-of": ALL_OF, "self-reference": SELF_REFERENCE, "min-properties": COUNTED,
         "pattern-properties": PATTERNED, "dependent-required": DEPENDENT, "none": None}

NAN = float("nan")
POINTS: list[dict[str, Any]] = [
    {},
    {"level": "low"}, {"level": "low", "count": 3}, {"level": "mid"}, {"count": 3}, {"level": "high", "count": -1},
    {"level": "low", "count": True}, {"level": "low", "count": 1.0}, {"level": "low", "count": 1.5},
    {"level": "low", "speed": 2},
    {"choice": 1}, {"choice": 1.0}, {"choice": True}, {"choice": "one"}, {"choice": None}, {"choice": [1, 2]},
    {"choice": [1.0, 2]}, {"choice": [True, 2]}, {"choice": (1, 2)}, {"choice": NAN}, {"choice": [NAN]},
    {"flag": True}, {"flag": 1}, {"flag": 1.0}, {"ratio": 0.5}, {"ratio": 2.0}, {"ratio": 2}, {"ratio": NAN},
    {"opt": {"lr": 0.1}}, {"opt": {"lr": 0.1, "layers": [2, 3]}}, {"opt": {"lr": 0}}, {"opt": {"lr": True}},
    {"opt": {"lr": 0.1, "layers": []}}, {"opt": {"lr": 0.1, "layers": [2.5]}}, {"opt": {"lr": 0.1, "depth": 2}},
    {"opt": {"layers": [1]}}, {"opt": {1: 0.1}}, {"opt": {"lr": NAN}}, {"opt": [0.1]}, {"opt": {"lr": 0.1}, "x": 1},
    {"opt": {"lr": 0.1}, "tags": ["a", "b"]}, {"opt": {"lr": 0.1}, "tags": ["a", "a"]},
    {"opt": {"lr": 0.1}, "tags": ("a", "b")},
    {"name": "n"}, {"name": ""}, {"name": "n", "w": 0.5}, {"name": "n", "w": 2}, {"name": "n", "w": "heavy"},
    {"w": True}, {"w": NAN}, {"w": -1}, {"w": -1.0},
    {"x": 0}, {"x": 10}, {"x": 11}, {"x": -1}, {"x": 1.0}, {"x": False}, {"x": None}, {"x": "1"},
    {"x": 1, "y": 1.5}, {"x": 1, "y": 1.25}, {"x": 1, "y": "a"}, {"x": 1, "z": [1, {"a": None}]},
    {"x": 1, "child": {"x": 2}}, {"x": 1, "child": {}}, {"x": 1, "child": {"x": 2, "child": {"x": "deep"}}},
    {"x": 1, "y": "why"}, {"x": 1, "y1": 2},
    {"text": "a"}, {"text": "a", "times": 2}, {"text": 1}, {"times": 2.0}, {"text": "a", "box": {"size": [1, True]}},
    {"i": 1}, {"i": 1.0}, {"i": 1.5}, {"i": True}, {"i": "1"}, {"i": 10**30}, {"i": float("inf")}, {"i": NAN},
    {"i": 0, "n": 1}, {"i": 0, "n": 0.5}, {"i": 0, "n": True}, {"i": 0, "n": NAN}, {"i": 0, "n": "1"},
    {"i": 0, "s": ""}, {"i": 0, "s": 1}, {"i": 0, "b": False}, {"i": 0, "b": 0}, {"i": 0, "z": None},
    {"i": 0, "z": 0}, {"i": 0, "u": None}, {"i": 0, "u": 2}, {"i": 0, "u": 2.5}, {"i": 0, "m": -1}, {"i": 0, "m": 1},
]


def reference_errors(schema: dict[str, Any] | None, parameters: dict[str, Any]) -> list[str]:
    """The plain computation: every point validated by the whole schema, nothing remembered."""
    if schema is None:
        return [f"unknown parameter '{name}' (this step takes no parameters)" for name in parameters]
    errors = sorted(Draft202012Validator(schema).iter_errors(parameters), key=lambda e: (_location(e), e.message))
    return [message for error in errors for message in _messages(error)]


def outcome(errors: Callable[[dict[str, Any]], list[str]], point: dict[str, Any]) -> list[str] | str:
    """The messages, or the exception the validator raises (``multipleOf`` cannot take nan)."""
    try:
        return errors(point)
    except ValueError as error:
        return repr(error)


@pytest.mark.parametrize("schema", [*PER_PARAMETER.values(), *WHOLE.values()], ids=[*PER_PARAMETER, *WHOLE])
def test_a_compiled_check_gives_the_messages_of_the_whole_schema(schema: dict[str, Any] | None) -> None:
    check = ParameterCheck(schema)
    cases = [(point, reference_errors(schema, point)) for point in POINTS]

    # Twice over, backwards the second time: remembered pairs must not answer for other values.
    for point, errors in cases + cases[::-1]:
        assert (point, check.errors(point)) == (point, errors)
        assert (point, parameter_errors(schema, point)) == (point, errors)


@pytest.mark.parametrize(("schema", "per_parameter"), [(schema, True) for schema in PER_PARAMETER.values()]
                         + [(schema, False) for schema in WHOLE.values()], ids=[*PER_PARAMETER, *WHOLE])
def test_only_a_schema_of_independent_properties_is_checked_pair_by_pair(
    schema: dict[str, Any] | None, per_parameter: bool
) -> None:
    check = ParameterCheck(schema)

    assert (check._pair is not None) is per_parameter
    if check._pair is not None:  # the pairs alone accept exactly the valid points
        assert [check._clean(check._pair, point) for point in POINTS] == [
            not reference_errors(schema, point) for point in POINTS
        ]


def test_properties_that_are_only_a_type_are_checked_by_their_type() -> None:
    assert sorted(ParameterCheck(TYPED)._typed) == ["b", "i", "n", "s", "z"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-3, 3)
    | st.sampled_from([NAN, -0.0, 1.0, 0.5, "low", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner) | st.dictionaries(st.sampled_from(["lr", "layers"]),
                                                                                    inner, max_size=2),
    max_leaves=6,
)


@pytest.mark.parametrize("schema", PER_PARAMETER.values(), ids=PER_PARAMETER)
@given(points=st.lists(st.dictionaries(st.sampled_from(["level", "count", "choice", "opt", "name", "w", "x", "y", "i", "n", "u"]),
                                       json_values, max_size=4), max_size=20))
def test_remembered_pairs_agree_with_the_whole_schema(schema: dict[str, Any], points: list[dict[str, Any]]) -> None:
    check = ParameterCheck(schema)
    assert [outcome(check.errors, point) for point in points] == [
        outcome(partial(reference_errors, schema), point) for point in points
    ]


def test_the_memo_stops_growing_at_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parameters, "MEMO_LIMIT", 50)
    check = ParameterCheck(OTHERS_ALLOWED)

    verdicts = [check.errors({"x": 1, "y": index / 2}) for index in range(-40, 80)]

    assert len(check._memo) == 50
    assert verdicts == [reference_errors(OTHERS_ALLOWED, {"x": 1, "y": index / 2}) for index in range(-40, 80)]
