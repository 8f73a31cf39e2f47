"""HTTP endpoints of the JobsRoot and of single jobs; the operations live in ``jobs.py``."""

from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from batchrun.localjma import siren
from batchrun.localjma.context import Context, context
from batchrun.localjma.bodies import json_body
from batchrun.localjma.payloads import CreateJob, CreateSubJob, JobQuery, RapidSetup, parse_payload
from batchrun.localjma.problems import bad_request
from batchrun.localjma.queries import find_jobs, job_where
from batchrun.localjma.query_resource import QueryResource
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


async def used_tags(request: Request) -> Response:
    ctx, base = context(request)
    return SirenResponse(siren.used_tags("JobUsedTags", f"{base}/api/JobsRoot/UsedTags", ctx.store.job_tags()))


async def get_job(request: Request) -> Response:
    ctx, base = context(request)
    return SirenResponse(job_entity(ctx, base, ctx.jobs.get(request.path_params["job_id"])))


def job_entity(ctx: Context, base: str, row: JobRow, rel: str | None = None) -> siren.Entity:
    step = ctx.registry.get(row.step_id)
    return siren.job(base, row, step, rel, slot_contents(ctx.store, row, step))


JOB_QUERY = QueryResource(
    "/api/JobsRoot/Query", JobQuery, "JobQueryResult",
    check=lambda _, query: job_where(query.filter),
    find=lambda ctx, query: find_jobs(ctx.store, query),
    item=partial(job_entity, rel="item"),
)


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
    *JOB_QUERY.routes(),
    Route("/api/JobsRoot/UsedTags", used_tags),
    Route("/api/Job/{job_id}", get_job),
    Route("/api/Job/{job_id}/{action}", job_action, methods=["POST"]),
    Route("/api/Job/{job_id}/InputDataSlot/{index:int}/{action}", input_slot_action, methods=["POST"]),
]
