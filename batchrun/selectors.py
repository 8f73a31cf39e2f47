"""``--only`` selectors: narrow an apply, or what ``status`` shows, to the points a user names.

A selector is ``FIELD=VALUE``; every selector given must match. ``state`` matches the
plan category or the point's job state, ``key`` the point's key (a prefix is enough, as
with git hashes), anything else a parameter, with dotted paths into nested values.
Values are YAML scalars so that ``lr=0.1`` matches the float a manifest wrote as ``0.1``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from batchrun.errors import UsageError
from batchrun.identity import canonical_json
from batchrun.manifest import Manifest, expand
from batchrun.report import Report
from batchrun.states import FAILED

_MISSING = object()


@dataclass(frozen=True)
class Selector:
    """One ``FIELD=VALUE`` condition."""

    field: str
    text: str

    @property
    def value(self) -> Any:
        """The YAML value of the right-hand side (the raw text when it is not YAML)."""
        try:
            return yaml.safe_load(self.text)
        except yaml.YAMLError:
            return self.text


def parse_selectors(texts: Iterable[str]) -> list[Selector]:
    """Parse ``--only`` options; a malformed one is a usage error naming the option."""
    selectors = []
    for text in texts:
        field, sep, value = text.partition("=")
        if not sep or not field.strip():
            raise UsageError(
                f"--only {text!r}: expected FIELD=VALUE, e.g. --only state=failed, "
                "--only key=3f2a9c, --only lr=0.1"
            )
        selectors.append(Selector(field.strip(), value.strip()))
    return selectors


def manifest_selectors(manifest: Manifest, texts: Iterable[str]) -> list[Selector]:
    """A command's ``--only`` options, parsed and checked against the manifest's parameters
    before anything is sent."""
    selectors = parse_selectors(texts)
    check_fields(selectors, {name for spec in expand(manifest) for name in spec.parameters})
    return selectors


def check_fields(selectors: Sequence[Selector], parameter_names: Iterable[str]) -> None:
    """Refuse selectors on parameters no point has, before anything is sent."""
    known = set(parameter_names)
    for selector in selectors:
        root = selector.field.split(".", 1)[0]
        if selector.field not in ("state", "key") and root not in known:
            choices = ", ".join(sorted(known | {"state", "key"}))
            raise UsageError(
                f"--only {selector.field}={selector.text}: no parameter named "
                f"{root!r}; use one of: {choices}"
            )


def matches(
    selectors: Sequence[Selector],
    *,
    key: str | None,
    states: Iterable[str],
    parameters: Mapping[str, Any] | None,
) -> bool:
    """Whether a point (its key, state names and parameters) satisfies every selector."""
    names = {state.lower() for state in states}
    for selector in selectors:
        if selector.field == "state":
            if selector.text.lower() not in names:
                return False
        elif selector.field == "key":
            if not key or not key.startswith(selector.text):
                return False
        elif not _same(_lookup(parameters or {}, selector.field), selector):
            return False
    return True


def narrow(report: Report, selectors: Sequence[Selector]) -> Report:
    """The report of the points every selector matches (its summary counts only those);
    ``state=failed`` matches each failed state."""
    if not selectors:
        return report
    rows = [
        row
        for row in report.jobs
        if matches(
            selectors,
            key=row.key,
            states=[row.state, "failed"] if row.state in FAILED else [row.state],
            parameters=row.parameters,
        )
    ]
    return report.model_copy(update={"jobs": rows, "summary": dict(Counter(row.state for row in rows))})


def value_text(value: Any) -> str:
    """A parameter value as a selector writes it: a string bare, anything else as canonical JSON."""
    return value if isinstance(value, str) else canonical_json(value)


def assignments(values: Mapping[str, Any], names: Iterable[str]) -> str:
    """``lr=0.1 opt.depth=3``: the named values (absent ones left out) as ``--only`` selects them."""
    return " ".join(f"{name}={value_text(values[name])}" for name in names if name in values)


def _lookup(parameters: Mapping[str, Any], path: str) -> Any:
    value: Any = parameters
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _same(actual: Any, selector: Selector) -> bool:
    """Equal as canonical JSON (``3`` is ``3.0``, ``true`` is not ``1``), or as raw text."""
    if actual is _MISSING:
        return False
    if isinstance(actual, str) and actual == selector.text:
        return True
    try:
        return canonical_json(actual) == canonical_json(selector.value)
    except ValueError:
        return False
