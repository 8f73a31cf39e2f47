"""``--set PATH=VALUE``: override one manifest field from the command line.

The sweep stays in the file (reproducible); an override replaces one value before
validation, so it is checked exactly like the file. PATH is dotted with list indices
(``grid.lr``, ``grid[0].lr`` or ``grid.0.lr``); VALUE is YAML (``[0.1, 0.2]``, ``4``, ``null``),
except that a Jinja2 template (``--set name=run-{{ lr }}`` or ``--set name={{ lr }}``) is taken as text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from batchrun.manifest.errors import FieldPath, Issue, Location, ManifestError, format_path
from batchrun.manifest.sourcemap import SourceMap
from batchrun.manifest.yamlread import read_yaml

_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*|\d+")


def parse_path(text: str) -> FieldPath:
    """``grid[0].lr`` → ``('grid', 0, 'lr')``; ValueError when it is not a field path."""
    segments = text.replace("[", ".").replace("]", "").split(".")
    if not text or not all(_SEGMENT.fullmatch(segment) for segment in segments):
        raise ValueError(f"{text!r} is not a field path; write it like execution.submit or grid[0].lr")
    return tuple(int(segment) if segment.isdigit() else segment for segment in segments)


def _nested(rest: FieldPath, value: Any) -> Any:
    for part in reversed(rest):
        if isinstance(part, int):
            raise ValueError(f"cannot create a list entry [{part}]; set the whole list instead")
        value = {part: value}
    return value


def _assign(data: dict[str, Any], path: FieldPath, value: Any) -> FieldPath:
    """Set ``value`` at ``path``, creating missing mappings; returns the topmost path replaced."""
    node: Any = data
    for depth, part in enumerate(path):
        where = format_path(path[:depth]) or "the manifest"
        if isinstance(node, list):
            if not isinstance(part, int):
                raise ValueError(f"{where} is a list; give an index, e.g. {format_path((*path[:depth], 0, part))}")
            if part >= len(node):
                raise ValueError(f"{where} has {len(node)} entries; index {part} is out of range")
        elif isinstance(node, dict):
            part = str(part)
        else:
            kind = "null" if node is None else type(node).__name__
            raise ValueError(f"{where} is {kind}, not a mapping or a list")
        if depth == len(path) - 1:
            node[part] = value
            return path
        if isinstance(node, dict) and node.get(part) is None:
            node[part] = _nested(path[depth + 1 :], value)
            return path[: depth + 1]
        node = node[part]
    return path


def _value(text: str, label: str) -> Any:
    """The YAML value of ``text``; a Jinja2 template (``{{ lr }}``) stays a string, unquoted."""
    if text.lstrip().startswith(("{{", "{%")):
        return text
    value, _ = read_yaml(text, label)
    return value


def apply_overrides(data: dict[str, Any], source_map: SourceMap, overrides: Sequence[str]) -> None:
    """Apply each ``PATH=VALUE`` to ``data`` in order; all malformed ones are reported together."""
    issues: list[Issue] = []
    for text in overrides:
        label = f"--set {text}"
        path_text, equals, value_text = text.partition("=")
        try:
            if not equals:
                raise ValueError("expected PATH=VALUE, e.g. --set execution.submit=4")
            path = parse_path(path_text.strip())
            value = _value(value_text, label)
            changed = _assign(data, path, value)
        except ManifestError as error:
            issues.extend(error.issues)
            continue
        except ValueError as error:
            issues.append(Issue(Location(label), path_text.strip(), str(error)))
            continue
        source_map.override(changed, label)
    if issues:
        raise ManifestError(issues)
