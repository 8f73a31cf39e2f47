"""``batchrun fetch``: download the batch's output WorkData into report.dir."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from batchrun.cli.connection import connected, connection_options
from batchrun.cli.console import announce
from batchrun.cli.options import manifest_options, only_option, run_option
from batchrun.cli.panels import PanelCommand
from batchrun.client import Platform
from batchrun.errors import BatchrunError
from batchrun.fetch import THREADS, Download, FetchResult, destination, fetch, plan_downloads
from batchrun.manifest import Manifest
from batchrun.report import Report, rebuild_report
from batchrun.selectors import manifest_selectors, narrow


@click.command("fetch", cls=PanelCommand)
@manifest_options
@connection_options
@click.option("--slot", "slots", multiple=True, metavar="NAME",
              help="[Filters] Only the outputs of this output slot. Repeatable.")
@only_option("Fetch only the outputs of")
@click.option("--dest", type=click.Path(path_type=Path, file_okay=False), default=None, metavar="DIR",
              help="Folder to download into (default: <report.dir>/<batch>, next to the manifest).")
@click.option("--threads", type=click.IntRange(1, 64), default=THREADS, show_default=True,
              help="Downloads at a time.")
@run_option("The run label whose outputs to fetch (batchrun.run tag).")
def fetch_command(
    manifest: Manifest,
    endpoint: str | None,
    api_key: str | None,
    slots: tuple[str, ...],
    only: tuple[str, ...],
    dest: Path | None,
    threads: int,
    run_label: str,
) -> None:
    """Download the output WorkData of the batch's jobs.

    Files go to DEST/<job name>/<slot>/<file name>, every name made safe for the file
    system. Files already there with the WorkData's size and the SHA-256 recorded when
    they were downloaded are skipped, so running it again fetches only what is missing;
    downloads go to a temp file renamed when complete, so no partial file is left behind.
    Exit 1 when some files could not be downloaded.
    """
    selectors = manifest_selectors(manifest, only)
    with connected(manifest, endpoint, api_key, run_jobs=False) as platform:
        report = narrow(rebuild_report(platform, manifest, run=run_label), selectors)
        result = download_outputs(platform, report, dest or destination(manifest), slots or None, threads=threads)
    if result.failed:
        raise BatchrunError(f"{len(result.failed)} files could not be fetched; run the same command again")


def download_outputs(
    platform: Platform, report: Report, dest: Path, slots: tuple[str, ...] | list[str] | None, *, threads: int = THREADS
) -> FetchResult:
    """Fetch the report's outputs with a progress bar on stderr; announce what happened
    (each file that failed too)."""
    downloads = plan_downloads(report, dest, slots)
    if not downloads:
        announce("no output WorkData to fetch" + (f" in slot {', '.join(slots)}" if slots else ""))
        return FetchResult()
    with _progress(downloads) as advance:
        result = fetch(platform, downloads, threads=threads, on_bytes=advance)
    announce(
        f"fetched {len(result.downloaded)} files ({result.bytes} bytes), {len(result.skipped)} already there, "
        f"into {dest}"
    )
    for problem in result.failed:
        announce(problem)
    return result


@contextmanager
def _progress(downloads: list[Download]) -> Iterator[Callable[[int], None]]:
    console = Console(stderr=True)
    total = sum(download.output.size or 0 for download in downloads)
    with Progress(
        TextColumn("fetching {task.fields[files]} files"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    ) as bar:
        task = bar.add_task("fetch", total=total or None, files=len(downloads))

        def advance(count: int) -> None:
            bar.advance(task, count)

        yield advance
