"""Sandboxed Jinja2 for job names and tags.

Templates only format values: Jinja2's immutable sandbox blocks attribute tricks
(``''.__class__``), there are no globals, no file loader (no include/import/extend), a
short list of formatting filters, bounded ``*``/``**``, and a cap on the output size.
Undefined variables are errors (``StrictUndefined``), never empty strings.
"""

from __future__ import annotations

import difflib
from typing import Any, Callable

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT = 1000
MAX_SOURCE = 10_000
"""Compiling a template costs memory in proportion to its length; names and tags are short."""
_MAX_EXPONENT = 64
_SAFE_FILTERS = (
    "abs capitalize count default d first float format int join last length lower max min "
    "replace reverse round sort string sum title tojson trim truncate unique upper"
).split()
_FILE_NODES = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)


class TemplateFailure(ValueError):
    """A template could not be compiled or rendered; the message says why and how to fix it."""


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > _MAX_EXPONENT:
            raise SecurityError(f"exponent {right} is too large")
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if isinstance(sequence, (str, list, tuple)) and isinstance(count, int):
                    if len(sequence) * count > MAX_OUTPUT:
                        raise SecurityError("repeating a value that many times is not allowed")
        return super().call_binop(context, operator, left, right)


def _environment() -> _Sandbox:
    environment = _Sandbox(undefined=StrictUndefined, autoescape=False)
    environment.globals.clear()
    environment.filters = {name: environment.filters[name] for name in _SAFE_FILTERS}
    return environment


_ENVIRONMENT = _environment()


def is_constant(source: str) -> bool:
    """True when ``source`` has no Jinja2 syntax and renders to itself."""
    return not any(marker in source for marker in ("{{", "{%", "{#"))


def check_template(source: str) -> None:
    """Raise :class:`TemplateFailure` when ``source`` is not a valid, self-contained template."""
    if len(source) > MAX_SOURCE:
        raise TemplateFailure(f"is {len(source):,} characters long; keep templates under {MAX_SOURCE:,}")
    if is_constant(source) and len(source) > MAX_OUTPUT:
        raise TemplateFailure(f"is {len(source):,} characters long; keep it under {MAX_OUTPUT:,}")
    try:
        tree = _ENVIRONMENT.parse(source)
    except TemplateSyntaxError as error:
        raise TemplateFailure(
            f"template syntax error: {error.message} (template line {error.lineno}); "
            "write values as {{ name }}"
        ) from None
    for _ in tree.find_all(_FILE_NODES):
        raise TemplateFailure("templates cannot include, import or extend other templates")
    unknown = {node.name for node in tree.find_all(nodes.Filter)} - set(_SAFE_FILTERS)
    if unknown:
        raise TemplateFailure(
            f"unknown filter {sorted(unknown)[0]!r}; available: {', '.join(sorted(_SAFE_FILTERS))}"
        )


def _explain(error: Exception, variables: dict[str, Any]) -> str:
    if isinstance(error, UndefinedError):
        missing = str(error.message or "").split("'")[1:2]
        hint = ""
        if missing:
            close = difflib.get_close_matches(missing[0], list(variables), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{error.message}{hint}; available: {', '.join(sorted(variables))}"
    if isinstance(error, SecurityError):
        return f"the template tried an unsafe operation ({str(error).rstrip('.')}); templates can only format values"
    return f"the template failed: {error}"


def compile_template(source: str) -> Callable[[dict[str, Any]], str]:
    """A function rendering ``source`` with the given variables (raises TemplateFailure)."""
    check_template(source)
    if is_constant(source):
        return lambda variables: source
    template = _ENVIRONMENT.from_string(source)

    def render(variables: dict[str, Any]) -> str:
        try:
            text = template.render(variables)
        except Exception as error:  # the sandbox boundary: any failure is the template's
            raise TemplateFailure(_explain(error, variables)) from None
        if len(text) > MAX_OUTPUT:
            raise TemplateFailure(f"renders to {len(text):,} characters; keep it under {MAX_OUTPUT:,}")
        return text

    return render
