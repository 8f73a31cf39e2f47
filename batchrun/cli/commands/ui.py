"""``batchrun ui``: the local portal over a manifest's embedded database, until Ctrl-C."""

from __future__ import annotations

import threading
import webbrowser
from pathlib import Path

import click

from batchrun.cli.connection import local_jma_flags
from batchrun.connection import LOCAL_DATABASE, STATE_DIR, local_database
from batchrun.manifest import load_manifest

UI_HELP = """Open the local portal: see batches and jobs live, start single jobs, browse WorkData.

Serves the embedded database of MANIFEST (.batchrun/ next to it, the one `batchrun
apply` uses) with the manifest's local steps and workers, on 127.0.0.1 until Ctrl-C,
and prints the portal's URL. Without MANIFEST, the database in ./.batchrun/ (no steps
to run). The Job-Management API stays available under /api of the same URL.
"""


def _open_browser(url: str) -> None:
    """Open ``url`` in the user's browser, or say why not (no browser on a server is normal)."""
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        click.echo(f"batchrun: no web browser found here; open {url} in a browser yourself", err=True)
        return
    if not browser.open(url):
        click.echo(f"batchrun: the web browser did not open; open {url} yourself", err=True)


@click.command("ui", help=UI_HELP)
@click.argument("manifest_path", metavar="[MANIFEST]", required=False, type=click.Path(path_type=Path))
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free one).")
@click.option("--open", "open_browser", is_flag=True, help="Open the portal in a web browser, where there is one.")
def ui_command(manifest_path: Path | None, port: int, open_browser: bool) -> None:
    from batchrun.localjma import LocalJMA  # the server stack loads only for this command

    if manifest_path is None:
        database, steps, workers = Path(STATE_DIR) / LOCAL_DATABASE, [], None
    else:
        manifest = load_manifest(manifest_path, ())
        database = local_database(manifest)
        steps = [str(path) for path in manifest.local.steps] if manifest.local else []
        workers = manifest.local.workers if manifest.local else None
    with local_jma_flags(), LocalJMA(database, steps=steps, workers=workers, port=port) as jma:
        click.echo(jma.url + "/")
        click.echo(f"batchrun: the portal for {database} is at {jma.url}/; press Ctrl-C to stop", err=True)
        if open_browser:
            _open_browser(jma.url + "/")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            click.echo("batchrun: stopping", err=True)
