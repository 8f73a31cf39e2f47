"""Sandboxed templates: they format values and can do nothing else."""

from __future__ import annotations

from typing import Any

import jinja2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from batchrun.manifest.templating import MAX_OUTPUT, TemplateFailure, compile_template, is_constant

VARIABLES: dict[str, Any] = {"lr": 0.125, "depth": 3, "params": {"lr": 0.125, "depth": 3}, "batch": "demo",
                             "index": 0, "key": "0123456789abcdef"}


def _render(source: str) -> str:
    return compile_template(source)(VARIABLES)


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("{{ batch }}-lr{{ lr }}-d{{ depth }}", "demo-lr0.125-d3"),
        ("{{ '%.2f'|format(lr) }}", "0.12"),
        ("{{ lr|round(2) }}/{{ key[:6] }}/{{ index + 1 }}", "0.12/012345/1"),
        ("{{ params.depth * 2 }}{% if depth > 2 %}-deep{% endif %}", "6-deep"),
        ("{{ params|tojson }}", '{"depth": 3, "lr": 0.125}'),
        ("{{ batch|upper|replace('DEMO', 'x') }}", "x"),
    ],
)
def test_templates_format_values(source: str, text: str) -> None:
    assert _render(source) == text


def test_constant_templates_are_returned_as_written() -> None:
    assert is_constant("team=ml") and not is_constant("lr={{ lr }}")
    assert compile_template("team=ml")({}) == "team=ml"


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("{{ ''.__class__.__mro__ }}", "unsafe operation (access to attribute '__class__'"),
        ("{{ self._TemplateReference__context }}", "unsafe operation"),
        ("{{ '{0.__class__}'.format(lr) }}", "unsafe operation"),
        ("{{ params.update({'lr': 1}) }}", "unsafe operation"),
        ("{{ 2 ** 100000 }}", "exponent 100000 is too large"),
        ("{{ [1] * 100000 }}", "repeating a value that many times is not allowed"),
        ("{{ 'x' * 999 }}{{ 'x' * 999 }}", "renders to 1,998 characters or more; keep it under 1,000"),
        ("{{ range(10) }}", "'range' is undefined"),
        ("{{ cycler }}{{ joiner }}", "'cycler' is undefined"),
        ("{{ environ }}", "'environ' is undefined"),
        ("{{ params.nothing }}", "has no attribute 'nothing'"),
        ("{{ dept }}", "'dept' is undefined (did you mean 'depth'?); available: batch, depth, index, key, lr, params"),
        ("{{ 1 / 0 }}", "the template failed: division by zero"),
    ],
)
def test_templates_cannot_escape_or_fail_silently(source: str, fragment: str) -> None:
    with pytest.raises(TemplateFailure) as raised:
        _render(source)
    assert fragment in str(raised.value)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("{% import 'os' as os %}", "cannot include, import or extend"),
        ("{% extends 'base.html' %}", "cannot include, import or extend"),
        ("{% from 'x' import y %}", "cannot include, import or extend"),
        ("{{ lr|attr('__class__') }}", "unknown filter 'attr'"),
        ("{{ lr|pprint }}", "unknown filter 'pprint'"),
        ("{% for %}", "template syntax error"),
    ],
)
def test_templates_are_checked_when_compiled(source: str, fragment: str) -> None:
    with pytest.raises(TemplateFailure, match=fragment):
        compile_template(source)


_literal = st.text(alphabet=st.characters(blacklist_characters="{}%#"), max_size=6) | st.sampled_from(["{x", "}", "%", "%s"])
_value = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5),
                   st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=2))


@given(pieces=st.lists(st.tuples(_literal, st.sampled_from(["a", "b", "c"])), min_size=1, max_size=4),
       values=st.fixed_dictionaries({"a": _value, "b": _value, "c": _value}))
def test_text_and_names_render_as_jinja2_renders_them(pieces: list[tuple[str, str]], values: dict[str, Any]) -> None:
    source = "".join(f"{text}{{{{ {name} }}}}" for text, name in pieces)
    reference = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(source).render(values)
    assert compile_template(source)(values) == reference


def test_a_missing_name_is_reported_as_by_jinja2() -> None:
    with pytest.raises(TemplateFailure, match=r"'dpeth' is undefined.*did you mean 'depth'"):
        compile_template("{{ batch }}-{{ dpeth }}")(VARIABLES)


def test_a_value_too_long_for_a_name_is_refused() -> None:
    with pytest.raises(TemplateFailure, match="keep it under"):
        compile_template("x-{{ batch }}")({"batch": "y" * (MAX_OUTPUT + 1)})


def test_any_identifier_is_substituted_as_jinja2_renders_it() -> None:
    source = "{{ é }}-{{ _x1 }}-{{ n }}{{ 'a' }}"  # the last is no plain name: Jinja2 renders it all
    values = {"é": 1.0, "_x1": None, "n": [1]}
    reference = jinja2.Environment(undefined=jinja2.StrictUndefined)
    assert compile_template(source)(values) == reference.from_string(source).render(values) == "1.0-None-[1]a"
    assert compile_template("{{ é }}-{{ _x1 }}")(values) == "1.0-None"
