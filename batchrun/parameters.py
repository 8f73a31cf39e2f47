"""Check job parameters against a step's parameter JSON schema, with messages for people.

The local JMA rejects bad parameters at configure time (like the platform) and the batch
planner checks a whole manifest before anything is submitted; both need the same rules and
the same wording. The planner checks up to millions of points against one schema, so it
compiles a :class:`ParameterCheck` once; one-off checks call :func:`parameter_errors`.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Callable, Hashable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError

#: Verdicts a check remembers at most (about 12 MB): a sweep of unique floats gains nothing from more.
MEMO_LIMIT = 100_000

#: Top-level keywords of a schema whose verdict on an object is the conjunction of a verdict per
#: parameter: no keyword here relates one parameter to another or counts them.
_PER_PARAMETER = frozenset({
    "type", "properties", "required", "additionalProperties", "$schema", "$id", "$defs",
    "definitions", "title", "description", "default", "examples", "$comment",
})
#: Values whose type and ``==`` decide their verdict, so they are memo keys themselves.
_SCALARS = frozenset({str, int, float, bool, type(None)})


class ParameterCheck:
    """The parameter check of one step's schema, compiled once and applied to many points.

    When the schema only constrains each parameter on its own (see :func:`_pair_schema`), a point
    is valid when its required names are present and each ``{name: value}`` pair is valid alone;
    a grid repeats few pairs, so their verdicts are remembered. A point that is not clean, and
    every point of any other schema, is validated in full, so its messages are always those of
    the whole schema.
    """

    __slots__ = ("_memo", "_pair", "_required", "_typed", "_validator")

    def __init__(self, schema: dict[str, Any] | None) -> None:
        self._validator: Draft202012Validator | None = None
        self._pair: Draft202012Validator | None = None
        self._required: tuple[str, ...] = ()
        self._memo: dict[Hashable, bool] = {}
        self._typed: dict[str, Callable[[Any], bool]] = {}
        if schema is not None:
            # Imported by the first check: reading commands (status, report) never check, and
            # jsonschema takes 40 ms to import.
            from jsonschema import Draft202012Validator

            self._validator = Draft202012Validator(schema)
            pair = _pair_schema(schema)
            if pair is not None:
                self._pair = Draft202012Validator(pair)
                self._required = tuple(schema.get("required", ()))
                self._typed = _typed_properties(pair)

    def errors(self, parameters: dict[str, Any]) -> list[str]:
        """Every problem with ``parameters``, exactly as :func:`parameter_errors` words them."""
        if self._validator is None:
            return [f"unknown parameter '{name}' (this step takes no parameters)" for name in parameters]
        if self._pair is not None and self._clean(self._pair, parameters):
            return []
        errors = sorted(self._validator.iter_errors(parameters), key=lambda e: (_location(e), e.message))
        return [message for error in errors for message in _messages(error)]

    def _clean(self, pair: Draft202012Validator, parameters: dict[str, Any]) -> bool:
        """Whether the schema accepts ``parameters``, judged pair by pair (a non-object never is)."""
        if not isinstance(parameters, dict) or not all(name in parameters for name in self._required):
            return False
        memo, typed = self._memo, self._typed
        for name, value in parameters.items():
            of_type = typed.get(name)
            if of_type is not None:
                if not of_type(value):
                    return False
                continue
            key = _memo_key(name, value)
            verdict = memo.get(key)  # None is never stored, so an unremembered value misses
            if verdict is None:
                verdict = pair.is_valid({name: value})
                if key is not None and len(memo) < MEMO_LIMIT:
                    memo[key] = verdict
            if not verdict:
                return False
        return True


#: Keywords of a property's schema that say nothing about a value but its type.
_ANNOTATIONS = frozenset({"type", "title", "description", "default", "examples", "$comment"})
#: Each JSON type as the validator's type checker decides it (``1.0`` is an integer, ``true`` no number).
_IS_TYPE: dict[str, Callable[[Any], bool]] = {
    "integer": lambda value: (isinstance(value, int) and not isinstance(value, bool))
    or (isinstance(value, float) and value.is_integer()),
    "number": lambda value: isinstance(value, numbers.Number) and not isinstance(value, bool),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
}


def _typed_properties(pair: dict[str, Any]) -> dict[str, Callable[[Any], bool]]:
    """The properties whose schema is only a type (``{"type": "integer", "title": ...}``, what
    a step's plain ``int`` parameter becomes), each with its type test: a sweep of unique
    values (a seed, an index) is then checked without a validator or a memo."""
    typed = {}
    for name, schema in (pair.get("properties") or {}).items():
        kind = schema.get("type") if isinstance(schema, dict) else None
        if isinstance(kind, str) and kind in _IS_TYPE and schema.keys() <= _ANNOTATIONS:
            typed[name] = _IS_TYPE[kind]
    return typed


def _memo_key(name: str, value: Any) -> Hashable | None:
    """A key equal only for pairs with the same verdict, or None when none is cheap and exact.

    0.0 and -0.0 share a key: JSON Schema compares numbers by value.
    """
    cls = type(value)
    if cls in _SCALARS and value == value:  # the type keeps True, 1 and 1.0 apart; nan is never equal
        return (name, cls, value)
    return (name, json.dumps(value, sort_keys=True)) if _plain_json(value) else None


def _pair_schema(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The schema a single ``{name: value}`` pair is checked against, or None when a point's
    verdict does not decompose per parameter.

    It is the root schema without ``required``, so ``$ref`` into ``$defs`` still resolves and
    ``additionalProperties`` still judges unknown names. A reference that could reach the root
    itself (``#``, an absolute or dynamic one) would see it without ``required``, so such a schema
    is validated in full.
    """
    if not schema.keys() <= _PER_PARAMETER or schema.get("type", "object") != "object":
        return None
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
        return None
    if not isinstance(schema.get("properties", {}), dict):
        return None
    if not isinstance(schema.get("additionalProperties", True), bool | dict) or _reaches_root(schema):
        return None
    return {keyword: value for keyword, value in schema.items() if keyword != "required"}


def _reaches_root(node: Any) -> bool:
    """Whether any reference in ``node`` may resolve to the root or its ``required``."""
    if isinstance(node, list):
        return any(_reaches_root(item) for item in node)
    if not isinstance(node, dict):
        return False
    if "$dynamicRef" in node or "$recursiveRef" in node:
        return True
    ref = node.get("$ref")
    if ref is not None and not (isinstance(ref, str) and _into_root(unquote(ref))):
        return True
    return any(_reaches_root(value) for value in node.values())


def _into_root(ref: str) -> bool:
    """Whether ``ref`` points inside the root schema, below any keyword but ``required``."""
    return ref.startswith("#/") and not ref.startswith("#/required")


def _plain_json(value: Any) -> bool:
    """Whether ``value`` is JSON as parsed, so its canonical text decides its verdict (a tuple or a
    dict with int keys would print like a list or str keys yet validate differently)."""
    cls = type(value)
    if cls is dict:
        return all(type(name) is str and _plain_json(item) for name, item in value.items())
    if cls is list:
        return all(_plain_json(item) for item in value)
    return cls in _SCALARS and value == value


@lru_cache(maxsize=32)
def _check(schema_text: str) -> ParameterCheck:
    """Compiling a check costs far more than using it; steps reuse the same schema. Few are
    kept: each may remember up to MEMO_LIMIT verdicts."""
    return ParameterCheck(json.loads(schema_text))


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
    return _check(json.dumps(schema, sort_keys=True)).errors(parameters)
