"""Options several commands share: MANIFEST with ``--set``, ``--only`` selectors and ``--run``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from batchrun.manifest import load_manifest
from batchrun.plan import DEFAULT_RUN

F = TypeVar("F", bound=Callable[..., Any])


def manifest_options(command: F) -> F:
    """Add ``MANIFEST`` and ``--set PATH=VALUE``; the command receives ``manifest: Manifest``.

    The manifest is loaded and validated before the command runs, so a broken manifest
    exits with code 2 and nothing is sent anywhere.
    """

    @click.argument("manifest_path", metavar="MANIFEST", type=click.Path(path_type=Path))
    @click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="PATH=VALUE",
        help="Override a manifest field (YAML value), e.g. --set grid.lr=[0.1,0.2] "
        "--set execution.submit=4. Repeatable; validated like the file.",
    )
    @functools.wraps(command)
    def wrapper(*args: Any, manifest_path: Path, overrides: tuple[str, ...], **kwargs: Any) -> Any:
        return command(*args, manifest=load_manifest(manifest_path, overrides), **kwargs)

    return wrapper  # type: ignore[return-value]


def only_option(purpose: str) -> Callable[[F], F]:
    """``--only SELECTOR`` (repeatable), passed to the command as ``only``; ``purpose``
    starts its help, e.g. "Work only on" (see :mod:`batchrun.selectors`)."""
    return click.option(
        "--only", multiple=True, metavar="SELECTOR",
        help=f"[Filters] {purpose} matching points: state=failed, key=<hash>, lr=0.1. "
        "Repeatable; all must match.",
    )


def run_option(help: str, *, default: str | None = DEFAULT_RUN) -> Callable[[F], F]:  # help: as click names it
    """``--run LABEL``: which set of a batch's jobs (``batchrun.run`` tag) the command uses,
    passed to the command as ``run_label`` (None: every run)."""
    return click.option("--run", "run_label", default=default, show_default=default is not None,
                        metavar="LABEL", help=help)
