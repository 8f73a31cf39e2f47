"""The MANIFEST argument and ``--set`` option every manifest-reading command shares."""

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
