"""Sandboxed Jinja2 for job names and tags.

Templates only format values: Jinja2's immutable sandbox blocks attribute tricks
(``''.__class__``), there are no globals, no file loader (no include/import/extend), a
short list of formatting filters, bounded ``*``/``**``, and a cap on the output size.
Undefined variables are errors (``StrictUndefined``), never empty strings.

Rendering is bounded in time and memory as well: no macros, no ``{% set %}``/``{% with %}``
and no loop inside a loop (the ways to grow work exponentially), no expression nested
deeper than 100 levels; format widths, formatting, ``~``/``+``, ``replace``, ``join`` and
``tojson`` that would build huge strings are refused before they run, and the output is
checked while it is produced.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes, pass_eval_context
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.filters import do_format, do_replace, do_tojson, sync_do_join
from jinja2.nodes import EvalContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

MAX_OUTPUT = 1000
MAX_SOURCE = 10_000
"""Compiling a template costs memory in proportion to its length; names and tags are short."""
_MAX_EXPONENT = 64
_MAX_DEPTH = 100
_MAX_BITS = 4 * MAX_OUTPUT  # a result wider than this has more digits than a template may output
_SAFE_FILTERS = [
    "abs", "capitalize", "count", "default", "d", "first", "float", "format", "int", "join", "last", "length", "lower",
    "max", "min", "replace", "reverse", "round", "sort", "string", "sum", "title", "tojson", "trim", "truncate",
    "unique", "upper",
]
_FILE_NODES = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)
_BINDING_NODES = (nodes.Macro, nodes.CallBlock, nodes.Assign, nodes.AssignBlock, nodes.With)
_MAX_TEXT = 100 * MAX_OUTPUT
"""The longest intermediate string a filter may build (the output is cut at MAX_OUTPUT)."""
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?([^a-zA-Z%]*)")


class TemplateFailure(ValueError):
    """A template could not be compiled or rendered; the message says why and how to fix it."""


def _check_specs(specs: Iterable[str]) -> None:
    """Refuse format specs that pad to more than MAX_OUTPUT characters or take a width from data."""
    for spec in specs:
        if "*" in spec or "{" in spec or any(int(number) > MAX_OUTPUT for number in re.findall(r"\d+", spec)):
            raise SecurityError(f"the format {spec!r} pads beyond {MAX_OUTPUT:,} characters")


def _deeper_than(tree: nodes.Node, limit: int) -> bool:
    pending = [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in node.iter_child_nodes())
    return False


def _check_size(size: int, what: str) -> None:
    if size > _MAX_TEXT:
        raise SecurityError(f"{what} would build {size:,} characters")


def _values(arguments: Any) -> list[Any]:
    """What a format operation may insert: the items of a tuple, the values of a mapping, or it."""
    if isinstance(arguments, tuple):
        return list(arguments)
    if isinstance(arguments, Mapping):
        return list(arguments.values())
    return [arguments]


def _check_format(text: str, specs: list[str], fields: int, values: Iterable[Any]) -> None:
    """Refuse formatting that pads beyond MAX_OUTPUT or repeats a long value into a huge string."""
    _check_specs(specs)
    longest = max((len(str(value)) for value in values), default=0)
    _check_size(len(text) + fields * longest, "formatting")


def _check_percent(text: str, arguments: Any) -> None:
    specs = _PERCENT_SPEC.findall(text)
    _check_format(text, specs, len(specs), _values(arguments))


def _check_braces(text: str, values: Iterable[Any]) -> None:
    parsed = list(string.Formatter().parse(text))
    specs = [spec for _, field, spec, _ in parsed if field is not None and spec]
    _check_format(text, specs, sum(field is not None for _, field, _, _ in parsed), values)


def _concat(items: list[Any]) -> str:
    """``a ~ b ~ ...``, rewritten to this filter so the result's size is checked before it is built."""
    texts = [str(item) for item in items]
    _check_size(sum(map(len, texts)), "~")
    return "".join(texts)


class _BoundedConcat(NodeTransformer):
    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:  # Jinja2's visitor naming
        self.generic_visit(node)
        return nodes.Filter(nodes.List(node.nodes), _CONCAT, [], [], None, None, lineno=node.lineno)


@pass_eval_context
def _replace(eval_ctx: EvalContext, s: Any, old: Any, new: Any, count: int | None = None) -> str:
    text, old_text, new_text = str(s), str(old), str(new)
    hits = text.count(old_text) if old_text else len(text) + 1
    if count is not None and count >= 0:
        hits = min(hits, count)
    _check_size(len(text) + hits * (len(new_text) - len(old_text)), "replace")
    return do_replace(eval_ctx, s, old, new, count)


@pass_eval_context
def _join(eval_ctx: EvalContext, value: Any, d: str = "", attribute: Any = None) -> str:
    items = list(value)
    _check_size(max(len(items) - 1, 0) * len(str(d)), "join")
    return sync_do_join(eval_ctx, items, d, attribute)


@pass_eval_context
def _tojson(eval_ctx: EvalContext, value: Any, indent: int | None = None) -> str:
    if indent is not None and not 0 <= indent <= 8:
        raise SecurityError(f"tojson indent {indent} is out of range (0 to 8)")
    return do_tojson(eval_ctx, value, indent)


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    _check_percent(str(value), kwargs if kwargs else tuple(args))
    return do_format(value, *args, **kwargs)


_CONCAT = "batchrun_concat"  # not a name templates may use: check_template allows _SAFE_FILTERS only
_BOUNDED_FILTERS: dict[str, Callable[..., Any]] = {
    "replace": _replace, "join": _join, "tojson": _tojson, "format": _format,
}


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > _MAX_EXPONENT:
            raise SecurityError(f"exponent {right} is too large")
        if (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and right > 0
            and left.bit_length() * right > _MAX_BITS  # (10 ** 64) ** 64 ** ... grows without bound
        ):
            raise SecurityError(f"the power {left} ** {right} is too large")
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if (
                    isinstance(sequence, (str, list, tuple))
                    and isinstance(count, int)
                    and len(sequence) * count > MAX_OUTPUT
                ):
                    raise SecurityError("repeating a value that many times is not allowed")
        if operator == "%" and isinstance(left, str):
            _check_percent(left, right)
        if operator == "+" and isinstance(left, str) and isinstance(right, str):
            _check_size(len(left) + len(right), "+")
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format``/``format_map``, refusing huge padding (``'{:>999999999}'``) and repetition."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            mapped = value.__name__ == "format_map" and len(args) == 1 and isinstance(args[0], Mapping)
            _check_braces(text, _values(args[0]) if mapped else [*args, *kwargs.values()])
            return wrapped(*args, **kwargs)

        return checked


def _environment() -> _Sandbox:
    environment = _Sandbox(undefined=StrictUndefined, autoescape=False)
    environment.globals.clear()
    environment.filters = {name: _BOUNDED_FILTERS.get(name, environment.filters[name]) for name in _SAFE_FILTERS}
    environment.filters[_CONCAT] = _concat
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
    too_deep = TemplateFailure(f"nests expressions deeper than {_MAX_DEPTH} levels; simplify it")
    try:
        tree = _ENVIRONMENT.parse(source)
    except TemplateSyntaxError as error:
        raise TemplateFailure(
            f"template syntax error: {error.message} (template line {error.lineno}); "
            "write values as {{ name }}"
        ) from None
    except RecursionError:
        raise too_deep from None
    if _deeper_than(tree, _MAX_DEPTH):  # checked first: the walks below and compiling recurse
        raise too_deep
    for _ in tree.find_all(_FILE_NODES):
        raise TemplateFailure("templates cannot include, import or extend other templates")
    for _ in tree.find_all(_BINDING_NODES):
        raise TemplateFailure("templates cannot define macros or variables ({% macro %}, {% set %}, {% with %})")
    for loop in tree.find_all(nodes.For):
        if loop.recursive or any(True for _ in loop.find_all(nodes.For)):
            raise TemplateFailure("templates cannot nest loops or loop recursively; one {% for %} at a time")
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
    template = _ENVIRONMENT.from_string(_BoundedConcat().visit(_ENVIRONMENT.parse(source)))

    def render(variables: dict[str, Any]) -> str:
        parts: list[str] = []
        size = 0
        try:
            for part in template.generate(variables):  # stop as soon as the output is too long
                parts.append(part)
                size += len(part)
                if size > MAX_OUTPUT:
                    break
        except Exception as error:  # the sandbox boundary: any failure is the template's
            raise TemplateFailure(_explain(error, variables)) from None
        if size > MAX_OUTPUT:
            raise TemplateFailure(f"renders to {size:,} characters or more; keep it under {MAX_OUTPUT:,}")
        return "".join(parts)

    layout = _plain_layout(_ENVIRONMENT.parse(source))
    return render if layout is None else _substitute(layout, render)


def _plain_layout(tree: nodes.Template) -> str | None:
    """A template that is only text and ``{{ name }}``, as a format string (``{name!s}``); else None.

    A Jinja2 name is an identifier, so as a field of the format string it is only a lookup.
    """
    if len(tree.body) != 1 or not isinstance(tree.body[0], nodes.Output):
        return None
    layout = []
    for node in tree.body[0].nodes:
        if isinstance(node, nodes.TemplateData):
            layout.append(node.data.replace("{", "{{").replace("}", "}}"))
        elif isinstance(node, nodes.Name) and node.ctx == "load":
            layout.append(f"{{{node.name}!s}}")
        else:
            return None
    return "".join(layout)


def _substitute(layout: str, render: Callable[[dict[str, Any]], str]) -> Callable[[dict[str, Any]], str]:
    """Render ``{{ a }}-{{ b }}`` without Jinja2's machinery: Jinja2 writes a value as ``str(value)``
    too, so the text is the same, several times faster (names and tags are rendered per job).
    A missing variable or a too long text goes through Jinja2 for its exact message."""

    def substitute(variables: dict[str, Any]) -> str:
        try:
            text = layout.format_map(variables)
        except KeyError:
            return render(variables)
        return text if len(text) <= MAX_OUTPUT else render(variables)

    return substitute


def template_names(source: str) -> set[str]:
    """The variables ``source`` reads (those a template uses without defining them)."""
    from jinja2 import meta

    if is_constant(source):
        return set()
    return set(meta.find_undeclared_variables(_ENVIRONMENT.parse(source)))
