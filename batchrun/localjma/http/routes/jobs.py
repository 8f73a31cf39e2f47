"""HTTP endpoints of the JobsRoot and of single jobs; the operations live in the domain's ``jobs``."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from batchrun.localjma.domain.folders import canonical_path
from batchrun.localjma.domain.jobs import JobSetup
from batchrun.localjma.domain.queries import Search
from batchrun.localjma.domain.values import resource_id
from batchrun.localjma.http import siren
from batchrun.localjma.http.context import Context, context
from batchrun.localjma.http.problems import bad_request
from batchrun.localjma.http.query_resource import QueryResource, refuse_unsupported, search
from batchrun.localjma.http.requests import (
    CreateJob,
    CreateSubJob,
    EditTags,
    JobQuery,
    MoveToFolder,
    RapidSetup,
    Rename,
    SelectProcessing,
    SelectWorkData,
    SelectWorkDataCollection,
    json_body,
    parse_payload,
)
from batchrun.localjma.http.siren import SirenResponse, created, done, job_href
from batchrun.localjma.store import filters
from batchrun.localjma.store.rows import JobRow

#: What each job action does with its body, once the job allows the action.
ACTION_HANDLERS: dict[str, Callable[[Context, JobRow, Any], object]] = {
    "SelectProcessing": lambda ctx, job, data: ctx.jobs.select_processing(
        job, parse_payload(SelectProcessing, data).processing_step_url
    ),
    "ConfigureProcessing": lambda ctx, job, data: ctx.jobs.configure(job, data),
    "StartProcessing": lambda ctx, job, _: ctx.jobs.start(job),
    "EditTags": lambda ctx, job, data: ctx.jobs.edit_tags(job, parse_payload(EditTags, data).tags),
    "Rename": lambda ctx, job, data: ctx.jobs.rename(job, parse_payload(Rename, data).new_name),
    "Hide": lambda ctx, job, _: ctx.jobs.set_hidden(job, True),
    "UnHide": lambda ctx, job, _: ctx.jobs.set_hidden(job, False),
    "AllowOutputDataDeletion": lambda ctx, job, _: ctx.jobs.set_output_deletion(job, True),
    "DisallowOutputDataDeletion": lambda ctx, job, _: ctx.jobs.set_output_deletion(job, False),
    "MoveToFolder": lambda ctx, job, data: ctx.jobs.move_to_folder(
        job, ctx.folders.filing(parse_payload(MoveToFolder, data).folder, "Folder")
    ),
    "Delete": lambda ctx, job, _: ctx.jobs.delete(job),
}


def job_search(query: JobQuery) -> Search[filters.JobFilter]:
    f = query.filter
    refuse_unsupported(f.tag_query_expression)
    if f.action_template_url:
        raise bad_request("ActionTemplateUrl: the local JMA has no action templates; leave it out")
    workdata_id = None if f.work_data_url is None else resource_id(f.work_data_url, "WorkData", "WorkDataUrl")
    step_id = (
        None if f.processing_step_url is None
        else resource_id(f.processing_step_url, "ProcessingStep", "ProcessingStepUrl")
    )
    parent_id = None if f.parent_job_url is None else resource_id(f.parent_job_url, "Job", "ParentJobUrl")
    where = filters.JobFilter(
        state=f.state, name_contains=f.name, hidden=f.show_hidden, input_workdata_id=workdata_id,
        created_before=f.created_before, created_after=f.created_after, tags_all=tuple(f.tags_by_and or ()),
        tags_any=tuple(f.tags_by_or or ()), step_id=step_id, sub_job=f.is_sub_job, parent_id=parent_id,
        folder_path=None if f.folder is None else canonical_path(f.folder), folder_recursive=bool(f.folder_recursive),
    )
    return search(where, query.sort_by, query.pagination, query.include_remaining_tags)


async def jobs_root(request: Request) -> Response:
    ctx, base = context(request)
    return SirenResponse(ctx.static(base, "JobsRoot", siren.jobs_root))


async def create_job(request: Request) -> Response:
    ctx, base = context(request)
    payload = parse_payload(CreateJob, await json_body(request))
    filing = ctx.folders.filing(payload.folder, "Folder")
    job = await ctx.commits.run(partial(ctx.jobs.create, payload.name, filing=filing))
    return created(job_href(base, job.id))


async def create_sub_job(request: Request) -> Response:
    ctx, base = context(request)
    payload = parse_payload(CreateSubJob, await json_body(request))
    job = await ctx.commits.run(partial(
        ctx.jobs.create, payload.name, payload.parent_job_url, inherit_folder=payload.inherit_parent_folder
    ))
    return created(job_href(base, job.id))


async def rapid_setup_job(request: Request) -> Response:
    ctx, base = context(request)
    payload = parse_payload(RapidSetup, await json_body(request))
    setup = JobSetup(
        payload.name, payload.processing_step_url, payload.parent_job_url, payload.tags, payload.parameters,
        bool(payload.allow_output_data_deletion),
        {slot.index: slot.work_data_urls or [] for slot in payload.input_data_slots or ()}, payload.start,
    )
    job = await ctx.commits.run(partial(ctx.jobs.rapid_setup, setup))
    return created(job_href(base, job.id))


async def used_tags(request: Request) -> Response:
    ctx, base = context(request)
    return SirenResponse(siren.used_tags("JobUsedTags", f"{base}/api/JobsRoot/UsedTags", ctx.queries.job_tags()))


async def get_job(request: Request) -> Response:
    ctx, base = context(request)
    return SirenResponse(job_entity(ctx, base, ctx.jobs.get(request.path_params["job_id"])))


def job_entity(ctx: Context, base: str, row: JobRow, rel: str | None = None) -> siren.Entity:
    step = ctx.registry.get(row.step_id)
    return siren.job(base, row, step, rel, ctx.jobs.slot_contents(row, step))


def read_only_jobs(ctx: Context, base: str, rows: list[JobRow]) -> list[bytes | memoryview]:
    return siren.read_only_jobs(base, rows, ctx.registry.get, ctx.jobs.slot_contents)


JOB_QUERY = QueryResource(
    "/api/JobsRoot/Query", JobQuery, "JobQueryResult",
    search=job_search,
    find=lambda ctx, found: ctx.queries.jobs(found),
    item=partial(job_entity, rel="item"),
    read_only_items=read_only_jobs,
)


async def input_slot_action(request: Request) -> Response:
    ctx, _ = context(request)
    job_id, index, action = request.path_params["job_id"], request.path_params["index"], request.path_params["action"]
    data = await json_body(request)
    job = ctx.jobs.for_input_action(job_id, index, action)
    if action == "SelectWorkData":
        urls = [parse_payload(SelectWorkData, data).work_data_url]
    elif action == "SelectWorkDataCollection":
        urls = parse_payload(SelectWorkDataCollection, data).work_data_urls or []
    else:
        urls = []
    ctx.jobs.select_inputs(job, index, urls)
    return done()


async def job_action(request: Request) -> Response:
    ctx, _ = context(request)
    action = request.path_params["action"]
    data = await json_body(request)
    job = ctx.jobs.for_action(request.path_params["job_id"], action)
    ACTION_HANDLERS[action](ctx, job, data)
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
