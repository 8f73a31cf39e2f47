"""The Start-a-job form from a step's parameter schema: each kind of parameter, and answers typed back."""

from __future__ import annotations

import enum
from typing import Literal

from pydantic import BaseModel

from batchrun.localjma.portal.forms import fields, parse, platform_field


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Parameters(BaseModel):
    count: int
    factor: float = 1.5
    mode: Literal["fast", "exact"] = "fast"
    colour: Colour = Colour.BLUE
    verbose: bool = False
    limit: int | None = None
    points: list[int] = [1, 2]
    label: str = "x"


def test_each_parameter_becomes_a_typed_field_with_its_default() -> None:
    found = {field.name: field for field in fields(Parameters.model_json_schema())}
    assert {name: field.kind for name, field in found.items()} == {
        "count": "integer", "factor": "number", "mode": "enum", "colour": "enum", "verbose": "boolean",
        "limit": "integer", "points": "json", "label": "string",
    }
    assert [name for name, field in found.items() if field.required] == ["count"]
    assert found["colour"].choices == ("red", "blue") and found["colour"].shown(None) == "blue"
    assert found["points"].shown(None) == "[1, 2]" and found["factor"].shown(None) == "1.5"
    assert fields(None) == []


def test_answers_are_typed_empty_ones_left_out_and_untypeable_ones_named() -> None:
    form_fields = fields(Parameters.model_json_schema())
    answers = {"param.count": "3", "param.factor": "", "param.mode": "exact", "param.points": "[4]",
               "param.verbose": "true", "param.label": "hi"}
    assert parse(form_fields, answers) == (
        {"count": 3, "mode": "exact", "verbose": True, "points": [4], "label": "hi"}, {})
    parameters, errors = parse(form_fields, {"param.count": "abc", "param.mode": "slow", "param.points": "[4"})
    assert parameters == {"verbose": False}
    assert errors["count"] == "enter a whole number, like 3"
    assert errors["mode"] == "choose one of fast, exact"
    assert errors["points"].startswith("enter JSON")


def test_platform_messages_are_placed_at_their_parameter() -> None:
    form_fields = fields(Parameters.model_json_schema())
    assert platform_field("missing required parameter 'count'", form_fields) == "count"
    assert platform_field("parameter 'points[0]': 'a' is not of type 'integer'", form_fields) == "points"
    assert platform_field("parameter 'other': no", form_fields) is None
