"""The ``--run LABEL`` option: which set of a batch's jobs (``batchrun.run`` tag) a command uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from batchrun.plan import DEFAULT_RUN

F = TypeVar("F", bound=Callable[..., Any])


def run_option(help: str, *, default: str | None = DEFAULT_RUN) -> Callable[[F], F]:  # noqa: A002
    """``--run LABEL`` passed to the command as ``run_label`` (None: every run)."""
    return click.option("--run", "run_label", default=default, show_default=default is not None,
                        metavar="LABEL", help=help)
