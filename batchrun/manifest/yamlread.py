"""Safe, bounded YAML reading that keeps the position of every value.

Scalars follow the YAML 1.2 core schema, not PyYAML's YAML 1.1 defaults: ``1e-3`` is a
number, ``no``/``on``/``yes`` stay strings (the "Norway problem"), dates stay strings and
``010`` is ten. Only plain data tags are accepted. Alias expansion and nesting depth are
bounded, so a "billion laughs" document fails fast with a clear error.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from batchrun.manifest.errors import FieldPath, Issue, Location, ManifestError, format_path
from batchrun.manifest.sourcemap import SourceMap

MAX_DEPTH = 50
ALIAS_GROWTH = 10
ALIAS_FLOOR = 10_000

_TAG = "tag:yaml.org,2002:"
_NULL, _BOOL, _INT, _FLOAT, _STR = (f"{_TAG}{name}" for name in ("null", "bool", "int", "float", "str"))
_SEQ, _MAP, _MERGE = f"{_TAG}seq", f"{_TAG}map", f"{_TAG}merge"

_RESOLVERS: list[tuple[str, re.Pattern[str], str]] = [
    (_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    (_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), "~nN"),
    (_INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), "-+0123456789"),
    (
        _FLOAT,
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        "-+.0123456789",
    ),
    (_MERGE, re.compile(r"^(?:<<)$"), "<"),
]


class _Loader(yaml.SafeLoader):
    """PyYAML's safe parser with YAML 1.2 core scalar resolution."""

    # PyYAML keeps this table per class (add_implicit_resolver fills it); its stubs declare it an
    # instance variable, so ClassVar would clash with them.
    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}  # noqa: RUF012


for _tag, _pattern, _first in _RESOLVERS:
    _Loader.add_implicit_resolver(_tag, _pattern, [*_first, ""])


class _UnsupportedTag(ValueError):
    """A scalar tag that is not plain data (e.g. ``!!binary``, ``!!python/object``)."""


def _construct(tag: str, text: str) -> Any:
    """The value of a scalar with a resolved ``tag``; ValueError when ``text`` does not fit."""
    if tag == _STR:
        return text
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return text.lower() == "true"
    if tag == _INT:
        if text.startswith(("0o", "0x")):
            return int(text[2:], 8 if text[1] == "o" else 16)
        return int(text)
    if tag == _FLOAT:
        lowered = text.lower()
        if lowered.endswith(".nan"):
            return math.nan
        if lowered.endswith(".inf"):
            return -math.inf if text.startswith("-") else math.inf
        return float(text)
    raise _UnsupportedTag(tag)


def scalar(text: str) -> Any:
    """Read one plain scalar the way a manifest would (used for CSV cells)."""
    for tag, pattern, first in _RESOLVERS:
        if text[:1] in first and pattern.match(text) and tag != _MERGE:
            return _construct(tag, text)
    return text


class _Builder:
    """Turns composed nodes into plain data, recording positions and refusing abuse."""

    def __init__(self, source_map: SourceMap, budget: int) -> None:
        self.map = source_map
        self.budget = budget
        self.issues: list[Issue] = []

    def _fail(self, node: Node, path: FieldPath, message: str) -> None:
        location = Location(self.map.source, node.start_mark.line + 1, node.start_mark.column + 1)
        self.issues.append(Issue(location, format_path(path), message))

    def build(self, node: Node, path: FieldPath, depth: int = 0) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _TooLarge(node)
        if depth > MAX_DEPTH:
            self._fail(node, path, f"nested deeper than {MAX_DEPTH} levels; flatten the structure")
            return None
        self.map.record(path, node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, SequenceNode) and node.tag == _SEQ:
            return [self.build(item, (*path, index), depth + 1) for index, item in enumerate(node.value)]
        if isinstance(node, MappingNode) and node.tag == _MAP:
            return self._mapping(node, path, depth)
        self._fail(node, path, f"unsupported YAML tag {_show_tag(node.tag)!r}; use plain lists and mappings")
        return None

    def _scalar(self, node: ScalarNode, path: FieldPath) -> Any:
        try:
            return _construct(node.tag, node.value)
        except _UnsupportedTag:
            self._fail(node, path, f"unsupported YAML tag {_show_tag(node.tag)!r}; write the value as a plain scalar")
        except ValueError:
            self._fail(node, path, f"{node.value!r} is not a valid {node.tag.removeprefix(_TAG)}")
        return None

    def _mapping(self, node: MappingNode, path: FieldPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merges.extend(value_node.value if isinstance(value_node, SequenceNode) else [value_node])
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag != _STR:
                self._fail(key_node, path, "mapping keys must be plain strings; quote the key")
                continue
            key = key_node.value
            if key in result:
                first = self.map.locate((*path, key), key=True)
                self._fail(key_node, (*path, key), f"duplicate key (first written at line {first.line}); keep one")
                continue
            self.map.record((*path, key), key_node.start_mark.line + 1, key_node.start_mark.column + 1, key=True)
            result[key] = self.build(value_node, (*path, key), depth + 1)
        merged: dict[str, Any] = {}
        for source in merges:
            if not isinstance(source, MappingNode):
                self._fail(source, path, "a merge key '<<' takes a mapping or a list of mappings")
                continue
            for key, value in self._mapping(source, path, depth + 1).items():
                merged.setdefault(key, value)
        return {**{key: value for key, value in merged.items() if key not in result}, **result}


class _TooLarge(Exception):
    def __init__(self, node: Node) -> None:
        self.node = node


def _distinct_nodes(root: Node) -> int:
    seen: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            pending.extend(node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                pending.extend((key, value))
    return len(seen)


def _show_tag(tag: str) -> str:
    return tag.replace(_TAG, "!!", 1)


def _syntax_issue(source: str, error: yaml.MarkedYAMLError) -> Issue:
    mark = error.problem_mark or error.context_mark
    where = Location(source, mark.line + 1, mark.column + 1) if mark else Location(source, 1, 1)
    problem = error.problem or error.context or "invalid YAML"
    if error.context and error.problem:
        problem = f"{problem} ({error.context})"
    if "single document" in problem:
        hint = "a manifest is one YAML document: remove the extra '---'"
    elif "expected <block end>" in problem or "mapping values are not allowed" in problem:
        hint = "check the indentation: keys of one mapping start in the same column"
    elif "\\t" in problem:
        hint = "YAML does not allow tabs here: indent with spaces"
    else:
        hint = "check indentation, colons, brackets and quotes"
    return Issue(where, "", f"YAML syntax error: {problem}; {hint}")


def read_yaml(text: str, source: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain data plus a :class:`SourceMap`.

    Raises :class:`ManifestError` for syntax errors, unsupported tags, duplicate keys,
    excessive alias expansion or nesting.
    """
    source_map = SourceMap(source)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        raise ManifestError([_syntax_issue(source, error)]) from None
    except yaml.YAMLError as error:
        raise ManifestError([Issue(Location(source, 1, 1), "", f"YAML error: {error}")]) from None
    except RecursionError:
        message = f"nested too deeply to read; keep the document under {MAX_DEPTH} levels"
        raise ManifestError([Issue(Location(source, 1, 1), "", message)]) from None
    finally:
        loader.dispose()
    if root is None:
        return None, source_map
    builder = _Builder(source_map, max(ALIAS_FLOOR, ALIAS_GROWTH * _distinct_nodes(root)))
    try:
        data = builder.build(root, ())
    except _TooLarge as error:
        mark = error.node.start_mark
        message = (
            "aliases expand to too many values (a 'billion laughs' document?); "
            "use fewer nested aliases"
        )
        raise ManifestError([Issue(Location(source, mark.line + 1, mark.column + 1), "", message)]) from None
    if builder.issues:
        raise ManifestError(builder.issues)
    return data, source_map
