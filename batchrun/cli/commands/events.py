"""``batchrun events``: the local JMA's event log, where deleted jobs keep their history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import click

from batchrun.cli.connection import connection_options, local_jma_flags
from batchrun.cli.panels import PanelCommand
from batchrun.client import Platform
from batchrun.connection import LOCAL, LOCAL_DATABASE, STATE_DIR
from batchrun.errors import PlatformError, UsageError

PAGE = 1000
EVENT_LOG_PATH = "/api/EventLog"  # batchrun's local JMA only (see batchrun.localjma.http.routes.eventlog)


@contextmanager
def _event_source(endpoint: str | None, api_key: str | None, database: Path) -> Iterator[Platform]:
    """The server at ``endpoint``, or the local JMA on ``database`` started just to read it."""
    if endpoint and endpoint.strip().lower() != LOCAL:
        with Platform(endpoint.strip(), api_key) as platform:
            yield platform
        return
    if not database.is_file():
        raise UsageError(
            f"no local JMA database at {database}: pass --endpoint URL of a running batchrun serve, "
            "or --db PATH of its database"
        )
    from batchrun.localjma import LocalJMA  # the server stack loads only when it is used

    with local_jma_flags(), LocalJMA(database, workers=0) as jma, Platform(jma.url, None) as platform:
        yield platform


def _event_log(platform: Platform, resource_id: str | None, after: int, limit: int) -> list[dict[str, Any]]:
    """A page of the local JMA's event log (oldest first, after sequence number ``after``),
    of one job or WorkData, or of everything; deleted jobs' events are kept there.

    Only batchrun's local JMA keeps one: other endpoints answer 404, said so plainly.
    """
    query = {"after": after, "limit": limit, **({"resource": resource_id} if resource_id else {})}
    href = f"{EVENT_LOG_PATH}?{urlencode(query)}"
    try:
        document = platform.read("reading the event log", lambda: json.loads(platform.get(href)))
    except PlatformError as error:
        if platform.failure(error.__cause__ or error).status == 404:
            raise PlatformError(
                f"{platform.endpoint} keeps no event log: only batchrun's local JMA (batchrun serve) "
                f"serves {EVENT_LOG_PATH}"
            ) from None
        raise
    return list(document["events"])


def _rows(platform: Platform, resource: str | None, limit: int | None) -> Iterator[dict[str, Any]]:
    after, seen = 0, 0
    while limit is None or seen < limit:
        page = _event_log(platform, resource, after, PAGE if limit is None else min(PAGE, limit - seen))
        yield from page
        seen += len(page)
        if len(page) < PAGE:
            return
        after = page[-1]["seq"]


@click.command("events", cls=PanelCommand)
@connection_options
@click.option("--db", "database", type=click.Path(dir_okay=False, path_type=Path),
              default=Path(STATE_DIR) / LOCAL_DATABASE, show_default=True,
              help="[Connection] Without --endpoint: read the event log of this local JMA database.")
@click.option("--job", "resource", metavar="ID_OR_URL", default=None,
              help="Only the events of this job (or WorkData), given by id or URL.")
@click.option("--limit", type=click.IntRange(1), default=None, help="At most this many events (oldest first).")
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="[Output] Text for people, JSON (one document) for tools.")
def events_command(
    endpoint: str | None, api_key: str | None, database: Path, resource: str | None, limit: int | None, output: str
) -> None:
    """Show the event log of the local JMA: what happened to which job or WorkData, and when.

    The log is kept when jobs and WorkData are deleted, so a deleted job's history can
    still be read: batchrun events --job <id or URL>. Only batchrun's local JMA keeps such
    a log (batchrun serve, or the database of the embedded one in .batchrun/).
    """
    with _event_source(endpoint, api_key, database) as platform:
        rows = list(_rows(platform, resource, limit))
    if output == "json":
        click.echo(json.dumps({"events": rows}, indent=2))
        return
    for row in rows:
        state = f" → {row['state']}" if row["state"] else ""
        detail = f"  {row['detail']}" if row["detail"] else ""
        click.echo(f"{row['at']}  {row['resource_type']:<8} {row['resource_id']}  {row['event']}{state}{detail}")
    if not rows:
        click.echo("batchrun: no events" + (f" for {resource}" if resource else ""), err=True)
