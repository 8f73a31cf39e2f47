"""How deeply a JSON-like value nests, checked without recursion.

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
