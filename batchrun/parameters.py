"""Check job parameters against a step's parameter JSON schema, with messages for people.

The local JMA rejects bad parameters at configure time (like the platform) and the batch
planner checks a whole manifest before anything is submitted; both need the same rules and
the same wording, so both call :func:`parameter_errors`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError


@lru_cache(maxsize=256)
def _validator(schema_text: str) -> Draft202012Validator:
    """Compiling a validator costs far more than using it; steps reuse the same schema."""
    return Draft202012Validator(json.loads(schema_text))


def _location(error: ValidationError) -> str:
    """``a``, ``config.depth`` or ``points[2]``: the parameter path as a user writes it."""
    text = ""
    for part in error.absolute_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _messages(error: ValidationError) -> list[str]:
    where = _location(error)
    if error.validator == "required" and isinstance(error.instance, dict):
        prefix = f"{where}." if where else ""
        return [
            f"missing required parameter '{prefix}{name}'"
            for name in (error.validator_value if isinstance(error.validator_value, list) else ())
            if name not in error.instance
        ]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, Mapping) else {}  # a bool schema has no properties
        known = set((schema.get("properties") or {}).keys())
        prefix = f"{where}." if where else ""
        allowed = f" (expected: {', '.join(sorted(known))})" if known else ""
        return [
            f"unknown parameter '{prefix}{name}'{allowed}"
            for name in error.instance
            if name not in known
        ]
    if not where:
        return [f"parameters: {error.message}"]
    return [f"parameter '{where}': {error.message}"]


def parameter_errors(schema: dict[str, Any] | None, parameters: dict[str, Any]) -> list[str]:
    """Every problem with ``parameters`` for a step whose parameter schema is ``schema``.

    An empty list means the parameters are valid. ``schema=None`` is a step that takes no
    parameters, so any parameter is an error. Messages name the parameter, e.g.
    ``parameter 'times': 'x' is not of type 'integer'``.
    """
    if schema is None:
        return [f"unknown parameter '{name}' (this step takes no parameters)" for name in parameters]
    validator = _validator(json.dumps(schema, sort_keys=True))
    errors = sorted(validator.iter_errors(parameters), key=lambda e: (_location(e), e.message))
    return [message for error in errors for message in _messages(error)]
