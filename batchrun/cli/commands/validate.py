"""``batchrun validate MANIFEST``: check a manifest completely, without any server."""

from __future__ import annotations

import click

from batchrun.cli.options import manifest_options
from batchrun.manifest import Manifest, stream_specs


@click.command("validate")
@manifest_options
def validate_command(manifest: Manifest) -> None:
    """Check MANIFEST: fields, grid, points, templates and names. Contacts no server.

    Exit 0 with a one-line summary when valid; exit 2 listing every problem found.
    """
    jobs = sum(1 for _ in stream_specs(manifest))  # one at a time: a million points fit in memory
    step = manifest.step
    version = f"@{step.version}" if step.version else " (version resolved when planned)"
    if manifest.search is not None:
        click.echo(f"{click.format_filename(manifest.source_path.name)}: valid, a {manifest.search.strategy} search "
                   f"of {manifest.search.budget:,} trials of {step.function}{version} in batch {manifest.batch}")
        return
    count = f"{jobs:,} job{'s' if jobs != 1 else ''}"
    click.echo(f"{click.format_filename(manifest.source_path.name)}: valid, {count} of {step.function}{version}"
               f" in batch {manifest.batch}")
