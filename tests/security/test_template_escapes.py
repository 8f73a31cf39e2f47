"""Sandbox escapes in job name and tag templates: every one is refused, in time and memory.

tests/manifest/test_templating.py covers the basic sandbox; these are the attacks beyond
it: walking attributes to ``__globals__``/``os``, the helper globals Jinja2 usually offers
(``cycler``, ``joiner``, ``lipsum``, ``namespace``), format-string attacks (attribute access
and padding bombs), mutation of the shared variables, and templates that would take
exponential time or memory.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchrun.manifest.templating import MAX_OUTPUT, TemplateFailure, compile_template
from tests.support import run_batchrun

VARIABLES: dict[str, Any] = {"lr": 0.1, "depth": 3, "name": "x" * 500, "long": "y" * 200_000,
                             "params": {"lr": 0.1, "depth": 3}, "batch": "demo", "index": 0,
                             "key": "0123456789abcdef"}

ESCAPES = {
    # attribute walking to globals, builtins, os
    "self-globals": "{{ self.__init__.__globals__ }}",
    "dict-globals": "{{ params.__class__.__init__.__globals__['os'] }}",
    "float-subclasses": "{{ lr.__class__.__base__.__subclasses__() }}",
    "str-mro": "{{ batch.__class__.__mro__[1].__subclasses__() }}",
    "subscript-dunder": "{{ params['__class__'] }}",
    "method-self": "{{ params.items.__self__ }}",
    "method-globals": "{{ key.format.__globals__ }}",
    "getitem-dunder": "{{ params.__getitem__('lr') }}",
    "int-dunder-call": "{{ index.__add__(1) }}",
    "object-dict": "{{ self.__dict__ }}",
    "private-context": "{{ self._TemplateReference__context.environment }}",
    "first-then-dunder": "{{ (params|first).__class__ }}",
    "sort-by-dunder": "{{ (params|sort(attribute='__class__')) }}",
    # names that are not there
    "open": "{{ open('/etc/passwd').read() }}",
    "os": "{{ os.system('id') }}",
    "builtins": "{{ __builtins__ }}",
    "cycler": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "joiner": "{{ joiner.__init__.__globals__ }}",
    "lipsum": "{{ lipsum.__globals__['os'] }}",
    "namespace": "{{ namespace.__init__.__globals__ }}",
    "range": "{{ range.__self__ }}",
    "dict": "{{ dict(a=1) }}",
    "config": "{{ config.items() }}",
    "request": "{{ request.application.__globals__ }}",
    "attr-filter": "{{ params|attr('__class__') }}",
    "map-filter": "{{ params|map('upper') }}",
    # format-string attacks: attribute access inside the format string
    "format-attribute": "{{ '{0.__class__.__mro__}'.format(params) }}",
    "format-globals": "{{ '{0.__init__.__globals__}'.format(lr) }}",
    "format-map-attribute": "{{ '{p.__class__}'.format_map({'p': params}) }}",
    "format-subscript": "{{ '{0[__class__]}'.format(params) }}",
    "format-built-at-runtime": "{{ ('{0.__cl' ~ 'ass__}').format(lr) }}",
    "format-filter-dunder": "{{ '%s'|format(params.__class__) }}",
    # format-string attacks: padding bombs
    "format-width": "{{ '{:>999999999}'.format(1) }}",
    "format-nested-width": "{{ '{:{w}}'.format(1, w=999999999) }}",
    "percent-star": "{{ '%*d' % (999999999, 1) }}",
    "percent-width": "{{ '%(a)999999999d' % {'a': 1} }}",
    "format-filter-width": "{{ '%999999999d'|format(1) }}",
    # mutating the variables every job shares
    "pop": "{{ params.pop('lr') }}",
    "clear": "{{ params.clear() }}",
    "setdefault": "{{ params.setdefault('x', 1) }}",
    # exponential time or memory
    "nested-loops": "{% for a in name %}{% for b in name %}{% for c in name %}{% endfor %}{% endfor %}{% endfor %}",
    "recursive-loop": "{% for a in params recursive %}{{ loop(params) }}{% endfor %}",
    "macro-recursion": "{% macro f() %}{{ f() }}{{ f() }}{% endmacro %}{{ f() }}",
    "set-doubling": "{% set a = name %}{% set a = a ~ a %}{% set a = a ~ a %}{{ a }}",
    "with-doubling": "{% with a = name ~ name %}{% with b = a ~ a %}{{ b }}{% endwith %}{% endwith %}",
    "replace-chain": "{{ name|replace('x', 'x' * 100)|replace('x', 'x' * 100)|length }}",
    "join-separator": "{{ name|join('y' * 1000)|length }}",
    "tojson-indent": "{{ params|tojson(indent=999999999) }}",
    "power-tower": "{{ 10 ** 64 ** 64 ** 64 ** 64 ** 64 }}",
    "concat-repeat": "{{ long ~ long }}",
    "plus-repeat": "{{ long + long }}",
    "percent-repeat": "{{ '%s%s' % (long, long) }}",
    "format-repeat": "{{ '{0}{0}'.format(long) }}",
    "format-map-repeat": "{{ '{a}{a}'.format_map({'a': long}) }}",
    "format-filter-repeat": "{{ '%s%s'|format(long, long) }}",
    "deep-parentheses": "{{ " + "(" * 2000 + "1" + ")" * 2000 + " }}",
    "deep-operators": "{{ " + " + ".join(["1"] * 500) + " }}",
    "long-loop-output": "{% for c in name %}{{ name }}{% endfor %}",
}


@pytest.mark.parametrize("source", ESCAPES.values(), ids=ESCAPES.keys())
def test_escape_is_refused_and_changes_nothing(source: str) -> None:
    variables = copy.deepcopy(VARIABLES)
    with pytest.raises(TemplateFailure) as refused:
        compile_template(source)(variables)
    message = str(refused.value)
    assert message and "Traceback" not in message
    assert variables == VARIABLES


def test_formatting_still_works() -> None:
    render = compile_template(
        "{{ batch }}-{{ '%.3f'|format(lr) }}-{{ '{:>4}'.format(depth) }}-{{ params|tojson(indent=2)|length }}"
        "-{{ name|replace('x', 'yy')|length }}-{{ [batch, key[:4]]|join('/') }}"
        "-{% for k in params %}{{ k }}{% endfor %}-{{ '%(d)03d' % {'d': depth} }}"
    )
    assert render(VARIABLES) == "demo-0.100-   3-29-1000-demo/0123-lrdepth-003"


TOKENS = ["{{ ", " }}", "{% ", " %}", "for x in ", "endfor", "if ", "endif", "params", "lr", "name", "self", "batch",
          ".", "|", "__class__", "__globals__", "__init__", "format", "'{0.__class__}'", "'%999999d'", "'x'",
          "replace", "join", "tojson", "*", "**", "~", "%", "999999", "9", "(", ")", "[", "]", ",", "cycler",
          "loop", "set ", "=", "items()", "recursive"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=25).map("".join))
def test_random_templates_render_bounded_or_fail_cleanly(source: str) -> None:
    variables = copy.deepcopy(VARIABLES)
    try:
        text = compile_template(source)(variables)
    except TemplateFailure:
        return
    assert len(text) <= MAX_OUTPUT or text == source
    assert "<module" not in text and "<function" not in text and "environ" not in text
    assert variables == VARIABLES


def test_an_escape_in_a_manifest_runs_nothing_and_exits_2(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    manifest = tmp_path / "escape.yaml"
    manifest.write_text(
        'version: 1\nbatch: demo\nstep: {function: train, version: "1.0.0"}\ngrid: {lr: [1, 2]}\n'
        f"name: \"{{{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}}}-{{{{ lr }}}}\"\n"
        f"tags: [\"{{{{ lipsum.__globals__['os'].system('touch {marker}') }}}}\"]\n",
        encoding="utf-8",
    )
    done = run_batchrun("validate", str(manifest), timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "escape.yaml:5:7: name: the template tried an unsafe operation" in done.stderr
    assert "escape.yaml:6:8: tags[0]: 'lipsum' is undefined" in done.stderr
    assert not marker.exists()
