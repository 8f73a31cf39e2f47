"""Semantic versions of processing steps: ordering and the range filter of step queries.

Step versions follow procon: one to three dot-separated integers and an optional
``-postfix`` (a pre-release). The platform sorts them semantically (``1.10.0`` after
``1.9.0``) and filters with a semver range (``*`` for all, ``1.2.0`` for exactly that
version, ``^1.2``, ``>=1.0 <2``, ``1.x || 3.x``); ``ProcessingStep.from_name`` relies on both.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.\-_]+))?$")
_PARTIAL = re.compile(r"^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.\-_]+))?$")
_COMPARATOR = re.compile(r"^(>=|<=|>|<|=|\^|~)?\s*(.+)$")

Key = tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]


def version_key(text: str) -> Key:
    """Sort key: numeric parts, then releases after their pre-releases (``1.0.0-rc1`` < ``1.0.0``).

    Text that is not a version sorts before every version, so odd uploads stay findable.
    """
    match = _VERSION.match(text.strip())
    if match is None:
        return (-1, -1, -1, 0, ())
    major, minor, patch, pre = match.groups()
    numbers = (int(major), int(minor or 0), int(patch or 0))
    if pre is None:
        return (*numbers, 1, ())
    parts = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))
    return (*numbers, 0, parts)


def next_patch(text: str) -> str:
    """The version to suggest after ``text`` (``1.2.3`` → ``1.2.4``), for error messages."""
    major, minor, patch = version_key(text)[:3]
    return f"{max(major, 0)}.{max(minor, 0)}.{max(patch, 0) + 1}"


def is_prerelease(text: str) -> bool:
    """A version with a ``-postfix``: hidden from the client's default "latest" lookup."""
    match = _VERSION.match(text.strip())
    return match is not None and match.group(4) is not None


def _lowest(numbers: tuple[int, int, int]) -> Key:
    """The smallest key with these numbers: below even their lowest pre-release."""
    return (*numbers, -1, ())


def _caret_upper(numbers: tuple[int, int, int], given: int) -> tuple[int, int, int]:
    """``^`` allows changes that do not modify the left-most non-zero part that was given."""
    major, minor, patch = numbers
    if major or given == 1:
        return (major + 1, 0, 0)
    if minor or given == 2:
        return (0, minor + 1, 0)
    return (0, 0, patch + 1)


def _full(op: str, exact: Key, numbers: tuple[int, int, int]) -> Callable[[Key], bool]:
    if op in ("", "="):
        return lambda key: key == exact
    if op in ("^", "~"):
        high = _lowest(_caret_upper(numbers, 3) if op == "^" else (numbers[0], numbers[1] + 1, 0))
        return lambda key: exact <= key < high
    return {
        ">=": lambda key: key >= exact,
        ">": lambda key: key > exact,
        "<": lambda key: key < exact,
        "<=": lambda key: key <= exact,
    }[op]


def _partial(op: str, numbers: tuple[int, int, int], given: int) -> Callable[[Key], bool]:
    """``1`` or ``1.2`` (``1.x``): every version starting like that."""
    low = _lowest(numbers)
    if op == "^":
        high = _lowest(_caret_upper(numbers, given))
    elif given == 1:
        high = _lowest((numbers[0] + 1, 0, 0))
    else:
        high = _lowest((numbers[0], numbers[1] + 1, 0))
    return {
        "": lambda key: low <= key < high,
        "=": lambda key: low <= key < high,
        "^": lambda key: low <= key < high,
        "~": lambda key: low <= key < high,
        ">=": lambda key: key >= low,
        ">": lambda key: key >= high,
        "<": lambda key: key < low,
        "<=": lambda key: key < high,
    }[op]


def _comparator(text: str) -> Callable[[Key], bool]:
    match = _COMPARATOR.match(text)
    partial = _PARTIAL.match(match.group(2)) if match else None
    if match is None or partial is None:
        raise ValueError(f"invalid version range part {text!r}")
    op = match.group(1) or ""
    given: list[int] = []
    for part in partial.groups()[:3]:
        if part is None or part in "xX*":
            break
        given.append(int(part))
    if not given:
        return (lambda key: False) if op in ("<", ">") else (lambda key: True)
    numbers = (given[0], [*given, 0, 0][1], [*given, 0, 0][2])
    if len(given) == 3:
        pre = partial.group(4)
        exact = version_key(".".join(map(str, numbers)) + (f"-{pre}" if pre else ""))
        return _full(op, exact, numbers)
    return _partial(op, numbers, len(given))


def version_range(text: str) -> Callable[[str], bool]:
    """A predicate for a semver range; raises ``ValueError`` with the offending part."""
    alternatives = []
    for alternative in text.split("||"):
        parts = re.sub(r"(>=|<=|>|<|=|\^|~)\s+", r"\1", alternative.strip()).split()
        alternatives.append([_comparator(part) for part in parts] or [lambda key: True])

    def matches(version: str) -> bool:
        key = version_key(version)
        return any(all(check(key) for check in checks) for checks in alternatives)

    return matches
