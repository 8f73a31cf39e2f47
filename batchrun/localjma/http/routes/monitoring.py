"""``GET /api/Job/{id}/Logs`` (paged by ``limit``, ``offset``, ``order=asc|desc``) and
``GET /api/Job/{id}/Metrics``: what a job printed and logged, and what it cost."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from batchrun.localjma.http.context import context
from batchrun.localjma.http.monitoring import logs_page, metrics_document
from batchrun.localjma.http.problems import bad_request
from batchrun.localjma.http.siren import SirenResponse, job_href

DEFAULT_LOG_PAGE = 100
MAX_LOG_PAGE = 1000
ORDERS = ("asc", "desc")


def _count(request: Request, name: str, default: int, most: int | None = None) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    bounds = f"from 0 to {most}" if most is not None else "0 or more"
    try:
        value = int(text)
    except ValueError:
        raise bad_request(f"{name}: expected a whole number {bounds}, got {text!r}") from None
    if value < 0 or (most is not None and value > most):
        raise bad_request(f"{name}: expected a whole number {bounds}, got {value}")
    return value


async def job_logs(request: Request) -> Response:
    ctx, base = context(request)
    job = ctx.jobs.get(request.path_params["job_id"])
    limit = _count(request, "limit", DEFAULT_LOG_PAGE, MAX_LOG_PAGE)
    offset = _count(request, "offset", 0)
    order = request.query_params.get("order", "asc").lower()
    if order not in ORDERS:
        raise bad_request(f"order: expected asc or desc, got {order!r}")
    lines, total = ctx.queries.job_logs(job, limit, offset, newest_first=order == "desc")
    return SirenResponse(logs_page(f"{job_href(base, job.id)}/Logs", lines, total, limit, offset))


async def job_metrics(request: Request) -> Response:
    ctx, base = context(request)
    job = ctx.jobs.get(request.path_params["job_id"])
    usage, samples = ctx.queries.job_usage(job)
    return SirenResponse(metrics_document(f"{job_href(base, job.id)}/Metrics", job, usage, samples))


routes = [
    Route("/api/Job/{job_id}/Logs", job_logs),
    Route("/api/Job/{job_id}/Metrics", job_metrics),
]
