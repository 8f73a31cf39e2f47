"""What step authors import: the ``Step`` base class and the ``@version`` decorator.

Kept to the standard library because every worker process imports it. Attribute names
follow PineXQ's procon (``__pxq_metadata__["version"]``) so that metadata written by
procon's decorators and by these looks the same to discovery.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

METADATA_ATTR = "__pxq_metadata__"
DEFAULT_VERSION = "0.0.0"
_VERSION_PATTERN = re.compile(r"^\d{1,8}(\.\d{1,8}){0,2}(-[A-Za-z0-9_-]+)?$")
_MAX_VERSION_LENGTH = 40


def _format_version(
    text: str | None, major: int | None, minor: int | None, patch: int | None, postfix: str | None
) -> str:
    numbers = (major, minor, patch)
    if text is not None:
        if any(n is not None for n in numbers) or postfix is not None:
            raise ValueError("@version takes either a version string or keywords, not both")
        if len(text) > _MAX_VERSION_LENGTH or not _VERSION_PATTERN.match(text):
            raise ValueError(
                f"invalid version {text!r}: use one to three dot-separated integers with an "
                "optional -postfix, e.g. '1.2.3' or '2.0.0-rc1'"
            )
        return text
    if all(n is None for n in numbers) and postfix is None:
        return DEFAULT_VERSION
    parts = [n or 0 for n in numbers]
    if any(not 0 <= n < 100_000_000 for n in parts):
        raise ValueError("version numbers must be between 0 and 99,999,999")
    result = ".".join(str(n) for n in parts)
    return f"{result}-{postfix}" if postfix else result


def version(
    text: str | None = None,
    *,
    major: int | None = None,
    minor: int | None = None,
    patch: int | None = None,
    postfix: str | None = None,
) -> Callable[[F], F]:
    """Declare a step's version: ``@version("1.2.0")`` or ``@version(major=1, minor=2)``."""
    resolved = _format_version(text, major, minor, patch, postfix)

    def decorate(func: F) -> F:
        metadata = dict(getattr(func, METADATA_ATTR, {}))
        metadata["version"] = resolved
        setattr(func, METADATA_ATTR, metadata)
        return func

    return decorate


def version_of(func: Callable[..., Any]) -> str:
    """The version declared with ``@version``, or ``0.0.0`` when there is none."""
    return str(getattr(func, METADATA_ATTR, {}).get("version", DEFAULT_VERSION))


class Step:
    """Base class of procon-style step containers: each public method is a step.

    ``use_cli`` is accepted for compatibility with procon, whose ``Step()`` starts a
    command line; batchrun only introspects, so it is ignored.
    """

    step_context: Any = None

    def __init__(self, use_cli: bool = False) -> None:
        self.step_context = None
