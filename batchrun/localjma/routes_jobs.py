"""HTTP endpoints of the JobsRoot and of single jobs; the operations live in ``jobs.py``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from batchrun.localjma import siren
from batchrun.localjma.context import Context, context
from batchrun.localjma.bodies import json_body
from batchrun.localjma.payloads import CreateJob, CreateSubJob, JobQuery, RapidSetup, parse_payload
from batchrun.localjma.prefer import created_query
from batchrun.localjma.problems import bad_request
from batchrun.localjma.queries import decode_query, encode_query, find_jobs, job_where, page_links, page_properties
from batchrun.localjma.siren import SirenResponse, created, done, job_href
from batchrun.localjma.slots import slot_contents
from batchrun.localjma.store import JobRow


async def jobs_root(request: Request) -> Response:
    ctx, base = context(request)
    return SirenResponse(ctx.static(base, "JobsRoot", siren.jobs_root))


async def create_job(request: Request) -> Response:
    ctx, base = context(request)
    payload = parse_payload(CreateJob, await json_body(request))
    if payload.folder is not None:
        raise bad_request("Folder: the local JMA has no folders; leave Folder out to create the job at the root")
    return created(job_href(base, ctx.jobs.create(payload.name).id))


async def create_sub_job(request: Request) -> Response:
    ctx, base = context(request)
    payload = parse_payload(CreateSubJob, await json_body(request))
    return created(job_href(base, ctx.jobs.create(payload.name, payload.parent_job_url).id))


async def rapid_setup_job(request: Request) -> Response:
    ctx, base = context(request)
    payload = parse_payload(RapidSetup, await json_body(request))
    return created(job_href(base, ctx.jobs.rapid_setup(payload).id))


def _query_href(base: str) -> str:
    return f"{base}/api/JobsRoot/Query"


async def create_job_query(request: Request) -> Response:
    ctx, base = context(request)
    query = parse_payload(JobQuery, await json_body(request))
    job_where(query.filter)  # reject an unsupported filter now, not on the GET
    location = f"{_query_href(base)}?q={encode_query(query)}"
    return created_query(request, location, lambda: _job_page(ctx, base, query))


async def job_query_result(request: Request) -> Response:
    ctx, base = context(request)
    return SirenResponse(_job_page(ctx, base, decode_query(JobQuery, request.query_params.get("q", ""))))


def _job_page(ctx: Context, base: str, query: JobQuery) -> siren.Entity:
    page = find_jobs(ctx.store, query)
    items = [job_entity(ctx, base, row, rel="item") for row in page.items]
    links = page_links(query, page, lambda token: f"{_query_href(base)}?q={token}")
    return siren.query_result("JobQueryResult", page_properties(page), items, links)


async def used_tags(request: Request) -> Response:
    ctx, base = context(request)
    return SirenResponse(siren.used_tags("JobUsedTags", f"{base}/api/JobsRoot/UsedTags", ctx.store.job_tags()))


async def get_job(request: Request) -> Response:
    ctx, base = context(request)
    return SirenResponse(job_entity(ctx, base, ctx.jobs.get(request.path_params["job_id"])))


def job_entity(ctx: Context, base: str, row: JobRow, rel: str | None = None) -> siren.Entity:
    step = ctx.registry.get(row.step_id)
    return siren.job(base, row, step, rel, slot_contents(ctx.store, row, step))


async def input_slot_action(request: Request) -> Response:
    ctx, _ = context(request)
    params = request.path_params
    ctx.jobs.act_on_input(params["job_id"], params["index"], params["action"], await json_body(request))
    return done()


async def job_action(request: Request) -> Response:
    ctx, _ = context(request)
    ctx.jobs.act(request.path_params["job_id"], request.path_params["action"], await json_body(request))
    return done()


routes = [
    Route("/api/JobsRoot", jobs_root),
    Route("/api/JobsRoot/CreateJob", create_job, methods=["POST"]),
    Route("/api/JobsRoot/CreateSubJob", create_sub_job, methods=["POST"]),
    Route("/api/JobsRoot/RapidSetupJob", rapid_setup_job, methods=["POST"]),
    Route("/api/JobsRoot/Query", create_job_query, methods=["POST"]),
    Route("/api/JobsRoot/Query", job_query_result),
    Route("/api/JobsRoot/UsedTags", used_tags),
    Route("/api/Job/{job_id}", get_job),
    Route("/api/Job/{job_id}/{action}", job_action, methods=["POST"]),
    Route("/api/Job/{job_id}/InputDataSlot/{index:int}/{action}", input_slot_action, methods=["POST"]),
]
