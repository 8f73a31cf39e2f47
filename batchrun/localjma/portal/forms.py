"""The Start-a-job form, generated from a step's JSON parameter schema, and its answers parsed back.

Each parameter becomes one typed field: integers and numbers as number inputs, booleans
as checkboxes, enums as selects, strings as text, anything else (objects, arrays) as JSON
text. Defaults fill the fields; a required parameter is marked. The answers become the
parameters object the platform validates; what cannot even be typed (``abc`` for an
integer) is reported on its field here, everything else by the platform's own validation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FIELD_PREFIX = "param."
_PLATFORM_FIELD = re.compile(r"parameter '([^'.\[]+)")


@dataclass(frozen=True)
class Field:
    """One parameter's form field; ``kind`` is integer, number, boolean, enum, string or json."""

    name: str
    kind: str
    required: bool
    default: Any = None
    has_default: bool = False
    choices: tuple[Any, ...] = ()
    description: str = ""

    @property
    def form_name(self) -> str:
        return FIELD_PREFIX + self.name

    @property
    def dom_id(self) -> str:
        return "param-" + self.name

    def shown(self, answers: Mapping[str, str] | None) -> str:
        """The field's text: the answer given, else the default."""
        if answers is not None and self.form_name in answers:
            return answers[self.form_name]
        if not self.has_default or self.default is None:
            return ""
        return self.default if isinstance(self.default, str) else json.dumps(self.default)

    def checked(self, answers: Mapping[str, str] | None) -> bool:
        if answers is not None:
            return self.form_name in answers
        return bool(self.default)


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """A property's own schema: ``$ref`` into ``$defs`` followed, ``Optional[X]`` read as X."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = (root.get("$defs") or {}).get(ref.removeprefix("#/$defs/"), {})
        return _resolve({**target, **{k: v for k, v in schema.items() if k != "$ref"}}, root)
    options = [option for option in schema.get("anyOf", ()) if option.get("type") != "null"]
    if len(options) == 1:
        return _resolve({**options[0], **{k: v for k, v in schema.items() if k != "anyOf"}}, root)
    return schema


def _kind(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return "enum"
    kind = schema.get("type")
    return kind if kind in ("integer", "number", "boolean", "string") else "json"


def fields(schema: Mapping[str, Any] | None) -> list[Field]:
    """The form fields of a step's parameter schema (None: a step without parameters)."""
    if not schema:
        return []
    required = set(schema.get("required") or ())
    found = []
    for name, raw in (schema.get("properties") or {}).items():
        resolved = _resolve(raw, schema)
        found.append(Field(
            name, _kind(resolved), name in required, resolved.get("default"), "default" in resolved,
            tuple(resolved.get("enum") or ()), str(resolved.get("description") or ""),
        ))
    return found


def _typed(field: Field, text: str) -> Any:
    """The value of one answer; ValueError with a message for the field when it has the wrong type."""
    if field.kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError("enter a whole number, like 3") from None
    if field.kind == "number":
        try:
            return float(text)
        except ValueError:
            raise ValueError("enter a number, like 0.5") from None
    if field.kind == "enum":
        chosen = next((choice for choice in field.choices if str(choice) == text), None)
        if chosen is None:
            raise ValueError(f"choose one of {', '.join(str(c) for c in field.choices)}")
        return chosen
    if field.kind == "json":
        try:
            return json.loads(text)
        except ValueError as error:
            raise ValueError(f"enter JSON, like [1, 2] or {{\"a\": 1}} ({error})") from None
    return text


def parse(form_fields: list[Field], answers: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The parameters object from the form's answers, and an error per field that could not be typed.

    An empty field is left out, so the step's default applies (or the platform names it as
    missing when it is required); a checkbox is always sent, checked or not.
    """
    parameters: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in form_fields:
        if field.kind == "boolean":
            parameters[field.name] = field.form_name in answers
            continue
        text = answers.get(field.form_name, "")
        if text == "":
            continue
        try:
            parameters[field.name] = _typed(field, text)
        except ValueError as error:
            errors[field.name] = str(error)
    return parameters, errors


def platform_field(message: str, form_fields: list[Field]) -> str | None:
    """The parameter a platform validation message is about (``parameter 'x': …``,
    ``missing required parameter 'x'``, from :mod:`batchrun.parameters`), if it is a field."""
    match = _PLATFORM_FIELD.search(message)
    names = {field.name for field in form_fields}
    return match.group(1) if match and match.group(1) in names else None
