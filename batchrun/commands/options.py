"""Options several commands share: MANIFEST with ``--set``, and ``--only`` selectors."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, TypeVar

import click

from batchrun.manifest import load_manifest

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
