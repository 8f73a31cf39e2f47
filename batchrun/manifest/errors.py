"""Manifest errors that point at the exact spot: file, line, column and field path."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from batchrun.errors import UsageError

FieldPath = tuple[str | int, ...]
"""Where a value sits in the manifest document: mapping keys and list indices."""


def format_path(path: FieldPath) -> str:
    """``('grid', 0, 'lr')`` → ``grid[0].lr``: the spelling users see and ``--set`` takes."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice ``word`` is most likely a misspelling of, if any is close enough."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'grid'?)`` for a near miss among ``choices``, else an empty string."""
    guess = closest(word, choices)
    return f" (did you mean {guess!r}?)" if guess else ""


@dataclass(frozen=True)
class Location:
    """Where something was written: a file position, or an override given on the command line."""

    source: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.source
        return f"{self.source}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Issue:
    """One problem: where it is, which field, and a message that says how to fix it."""

    location: Location
    path: str
    message: str

    def __str__(self) -> str:
        field = f"{self.path}: " if self.path else ""
        return f"{self.location}: {field}{self.message}"


class ManifestError(UsageError):
    """A manifest (or an override of it) is invalid; nothing was sent anywhere.

    The message lists every issue found, one per line, as ``file:line:col: path: message``.
    """

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))
