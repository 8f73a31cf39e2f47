"""Nested JSON-like values, walked without recursion: how deep they go, and their leaves.

Values from files and requests are checked before anything recursive (validation,
hashing, ``json.dumps``) walks them, so a hostile document fails with a clear message
instead of Python's recursion limit.
"""

from __future__ import annotations

from typing import Any


def deeper_than(value: Any, limit: int) -> bool:
    """True when ``value`` has lists or dicts nested more than ``limit`` levels deep."""
    pending: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, (dict, list)) else []
    while pending:
        container, depth = pending.pop()
        if depth > limit:
            return True
        children = container.values() if isinstance(container, dict) else container
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def dotted(prefix: str, value: Any) -> dict[str, Any]:
    """``value``'s leaves by dotted path under ``prefix``, in order: ``{"lr": 0.1}`` under
    ``opt`` is ``{"opt.lr": 0.1}``; lists, scalars and empty objects are leaves.

    One flat level is what a table column, a CSV header or an ``--only`` selector can name.
    """
    leaves: dict[str, Any] = {}
    pending: list[tuple[str, Any]] = [(prefix, value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, dict) and item:
            pending.extend(reversed([(f"{path}.{name}", child) for name, child in item.items()]))
        else:
            leaves[path] = item
    return leaves
