"""EntryPoint, Info, the current user, the SSE event stream and the (minimal) WorkData root."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from batchrun.localjma import siren
from batchrun.localjma.context import context
from batchrun.localjma.bodies import json_body
from batchrun.localjma.problems import not_found
from batchrun.localjma.siren import SirenResponse, created, job_href


async def entry_point(request: Request) -> Response:
    ctx, base = context(request)
    return SirenResponse(ctx.static(base, "EntryPoint", siren.entry_point))


async def info(request: Request) -> Response:
    ctx, base = context(request)
    return SirenResponse(ctx.static(base, "Info", lambda b: siren.info(b, ctx.store.user_id)))


async def current_user(request: Request) -> Response:
    ctx, base = context(request)
    if request.path_params["user_id"] != ctx.store.user_id:
        raise not_found(f"user {request.path_params['user_id']}")
    return SirenResponse(siren.user(base, ctx.store.user_id))


async def api_events(request: Request) -> Response:
    ctx, base = context(request)
    return StreamingResponse(
        ctx.broker.stream(lambda job_id: job_href(base, job_id)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def work_data_root(request: Request) -> Response:
    ctx, base = context(request)
    return SirenResponse(ctx.static(base, "WorkDataRoot", siren.work_data_root))


async def create_work_data_query(request: Request) -> Response:
    await json_body(request)
    _, base = context(request)
    return created(f"{base}/api/WorkDataRoot/Query")


async def work_data_query_result(request: Request) -> Response:
    _, base = context(request)
    properties = {"TotalEntities": 0, "CurrentEntitiesCount": 0, "PreviousEntitiesCount": 0}
    href = f"{base}/api/WorkDataRoot/Query"
    return SirenResponse(siren.query_result("WorkDataQueryResult", properties, [], [siren.link("self", href)]))


async def work_data(request: Request) -> Response:
    raise not_found(f"work data {request.path_params['item_id']}")


routes = [
    Route("/api/EntryPoint", entry_point),
    Route("/api/Info", info),
    Route("/api/User/{user_id}", current_user),
    Route("/api/Events", api_events),
    Route("/api/WorkDataRoot", work_data_root),
    Route("/api/WorkDataRoot/Query", create_work_data_query, methods=["POST"]),
    Route("/api/WorkDataRoot/Query", work_data_query_result),
    Route("/api/WorkData/{item_id}", work_data),
]
