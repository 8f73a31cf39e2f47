"""Parameter checks against a step's JSON schema, with messages that name the parameter."""

from __future__ import annotations

from batchrun.parameters import parameter_errors

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
