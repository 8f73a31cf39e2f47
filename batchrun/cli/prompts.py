"""Asking once before a destructive step (delete, prune, rerun over results).

The rule is the ``pinexq`` CLI's: ``--yes`` skips the question; a run without a terminal
and without ``--yes`` refuses rather than guess, and says that nothing was sent.
"""

from __future__ import annotations

import sys

import click

from batchrun.errors import BatchrunError


def confirm_once(question: str, *, yes: bool) -> None:
    """Return when the user agreed (or passed ``--yes``); otherwise raise (exit 1)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise BatchrunError(
            f"{question.rstrip('?')}: not confirmed, since this run is not interactive; "
            "pass --yes to proceed. Nothing was sent."
        )
    if not click.confirm(question, default=False, err=True):
        raise BatchrunError("Aborted. Nothing was sent.")
