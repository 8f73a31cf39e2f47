"""``GET /api/EventLog``: the local JMA's event log as JSON, deleted jobs' history included.

An extension of the local JMA (the client never asks for it): ``?resource=<id or URL>``
narrows it to one job or WorkData, ``?after=<seq>`` continues after the last event read,
``?limit=`` caps the page (at most 1000). Events come oldest first, each with its ``seq``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from batchrun.localjma.http.context import context
from batchrun.localjma.http.problems import bad_request
from batchrun.localjma.http.siren import NO_STORE
from batchrun.localjma.store.rows import epoch_as_stored_time

PATH = "/api/EventLog"
MAX_PAGE = 1000


def _count(text: str, name: str, default: int) -> int:
    if not text:
        return default
    if not text.isdigit() or len(text) > 18:
        raise bad_request(f"{name} must be a whole number, got {text[:40]!r}")
    return int(text)


async def event_log(request: Request) -> Response:
    ctx, _ = context(request)
    params = request.query_params
    after = _count(params.get("after", ""), "after", 0)
    limit = min(max(_count(params.get("limit", ""), "limit", MAX_PAGE), 1), MAX_PAGE)
    resource = params.get("resource") or None
    if resource is not None:
        resource = urlsplit(resource).path.rstrip("/").rsplit("/", 1)[-1]
    events = [
        {
            "seq": seq,
            "at": epoch_as_stored_time(event.at),
            "resource_type": event.resource_type,
            "resource_id": event.resource_id,
            "event": event.event_type,
            "state": event.state,
            "detail": event.detail,
        }
        for seq, event in ctx.queries.event_log(resource, after, limit)
    ]
    return JSONResponse({"events": events}, headers=NO_STORE)


routes = [Route(PATH, event_log)]
