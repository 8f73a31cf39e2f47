"""Where the command line writes: tables and text on stdout, notices on stderr.

rich wraps at 80 columns when stdout is not a terminal, so a long job name broke over
several lines in CI logs, ``| less`` and ``> out.txt``, where grep then missed it. Off a
terminal, lines keep their natural width; ``COLUMNS``, when set, is the width everywhere.
"""

from __future__ import annotations

import os
import sys

import click
from rich.console import Console

UNWRAPPED = 1_000_000
"""A width no table or line reaches: rich tables then take their natural width."""


def announce(text: str) -> None:
    """A notice for the user on stderr (stdout stays for machine output)."""
    click.echo(f"batchrun: {text}", err=True)


def output_width() -> int | None:
    """``COLUMNS`` when set; ``None`` (the terminal's own width) on a terminal; else unwrapped."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return None if _stdout_is_terminal() else UNWRAPPED


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # no stream, or a closed one
        return False


def stdout_console() -> Console:
    """A rich console on stdout: the terminal's width there, unwrapped on a pipe or a file."""
    return Console(width=output_width())
