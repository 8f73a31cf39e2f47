"""The engine's side of the user interface: how it tells, asks and shows progress.

The engine never prints or prompts itself. Whoever runs it hands in callables of these
types, as the command line does with its notices on stderr, its prompt and its live
display; other callers (tests, scripts) get these defaults: notices go nowhere, a
destructive step is refused, progress is not shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol

from batchrun.errors import BatchrunError

Notify = Callable[[str], None]
"""Takes a message for the user."""

Confirm = Callable[[str], None]
"""Asks a yes/no question before a destructive step; returns when agreed, raises to refuse."""


class ProgressSink(Protocol):
    """Takes the counts of an apply's points as they change."""

    def update(self, counts: Mapping[str, int], *, done: int, finished_here: int) -> None:
        """``counts``: points per status; ``done``: points in a final status; ``finished_here``:
        those this apply saw finish (what a rate is computed from)."""


ShowProgress = Callable[[int], AbstractContextManager[ProgressSink]]
"""Given the number of points, a ``with`` block that shows their progress while it lasts."""


def silent(message: str) -> None:
    """Tell nobody."""


def refuse(question: str) -> None:
    """Refuse every destructive step: no one is there to ask."""
    raise BatchrunError(f"{question.rstrip('?')}: not confirmed. Nothing was sent.")


class _Unseen:
    def update(self, counts: Mapping[str, int], *, done: int, finished_here: int) -> None:
        pass


def unseen(total: int) -> AbstractContextManager[ProgressSink]:
    """Show no progress."""
    return nullcontext(_Unseen())
