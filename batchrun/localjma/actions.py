"""Running an action on a resource: the one place that says 404 or 409, and why.

The client treats a present action as allowed, so the same ``blocker`` that hides an action
from an entity refuses a forced POST of it, with the reason in the 409 problem.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, TypeVar

from batchrun.localjma.problems import conflict, not_found

R = TypeVar("R")


def run_action(
    handlers: Mapping[str, Callable[[R, Any], object]],
    blocker: Callable[[R, str], str | None],
    load: Callable[[], R],
    action: str,
    data: Any,
    kind: str,
) -> None:
    """404 for an action ``kind`` resources do not have, 409 when ``blocker`` names a reason."""
    handler = handlers.get(action)
    if handler is None:
        raise not_found(f"action {action!r} on {kind}")
    subject = load()
    reason = blocker(subject, action)
    if reason is not None:
        raise conflict(f"{action} is not available: {reason}")
    handler(subject, data)
