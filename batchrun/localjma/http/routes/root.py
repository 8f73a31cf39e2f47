"""EntryPoint, Info, the current user and the SSE event stream."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from batchrun.localjma.http import siren
from batchrun.localjma.http.context import context
from batchrun.localjma.http.problems import not_found
from batchrun.localjma.http.siren import SirenResponse, job_href


async def entry_point(request: Request) -> Response:
    ctx, base = context(request)
    return SirenResponse(ctx.static(base, "EntryPoint", siren.entry_point))


async def info(request: Request) -> Response:
    ctx, base = context(request)
    return SirenResponse(ctx.static(base, "Info", lambda b: siren.info(b, ctx.user_id)))


async def current_user(request: Request) -> Response:
    ctx, base = context(request)
    if request.path_params["user_id"] != ctx.user_id:
        raise not_found(f"user {request.path_params['user_id']}")
    return SirenResponse(siren.user(base, ctx.user_id))


async def api_events(request: Request) -> Response:
    ctx, base = context(request)
    return StreamingResponse(
        ctx.broker.stream(lambda job_id: job_href(base, job_id)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


routes = [
    Route("/api/EntryPoint", entry_point),
    Route("/api/Info", info),
    Route("/api/User/{user_id}", current_user),
    Route("/api/Events", api_events),
]
