"""``batchrun schema``: print the manifest's JSON schema (for editors and other tools)."""

from __future__ import annotations

import click

from batchrun.manifest.schema import manifest_schema_text


@click.command("schema")
def schema_command() -> None:
    """Print the JSON schema of manifests, generated from batchrun's own models.

    Point an editor at it with a first line like
    ``# yaml-language-server: $schema=schemas/manifest.schema.json``.
    """
    click.echo(manifest_schema_text(), nl=False)
