"""Which action may run on a resource now: the one place that says "no such action" or "not now", and why.

The client treats a present action as allowed, so the same ``blocker`` that hides an action
from an entity refuses a forced call of it, with the reason in the :class:`Conflict`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TypeVar

from batchrun.localjma.domain.errors import Conflict, NotFound

R = TypeVar("R")


def for_action(
    actions: Collection[str], blocker: Callable[[R, str], str | None], load: Callable[[], R], action: str, kind: str
) -> R:
    """The resource ``load`` returns, once ``action`` is one that ``kind`` resources have and
    ``blocker`` names no reason against it now."""
    if action not in actions:
        raise NotFound(f"action {action!r} on {kind}")
    subject = load()
    reason = blocker(subject, action)
    if reason is not None:
        raise Conflict(f"{action} is not available: {reason}")
    return subject
