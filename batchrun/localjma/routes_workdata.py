"""HTTP endpoints of the WorkDataRoot and of single WorkData; the operations live in ``workdata.py``."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from batchrun.localjma import siren
from batchrun.localjma.bodies import json_body, require_upload, uploaded_file
from batchrun.localjma.context import context
from batchrun.localjma.payloads import (
    UploadWorkData,
    WorkDataFilter,
    WorkDataQuery,
    WorkDataTagsQuery,
    load_json,
    parse_payload,
)
from batchrun.localjma.problems import Problem, bad_request
from batchrun.localjma.queries import decode_query, encode_query, find_workdata, workdata_where
from batchrun.localjma.query_resource import QueryResource
from batchrun.localjma.siren import SirenResponse, created, done, workdata_href
from batchrun.localjma.workdata import content_path

PARAMETERS_FIELD = "UploadWorkDataParameters"

WORKDATA_QUERY = QueryResource(
    "/api/WorkDataRoot/Query", WorkDataQuery, "WorkDataQueryResult",
    check=lambda _, query: workdata_where(query.filter),
    find=lambda ctx, query: find_workdata(ctx.store, query),
    item=lambda _, base, row: siren.work_data(base, row, rel="item"),
)


def _root(base: str) -> str:
    return f"{base}/api/WorkDataRoot"


async def work_data_root(request: Request) -> Response:
    ctx, base = context(request)
    all_href = WORKDATA_QUERY.href(base, WorkDataQuery())
    return SirenResponse(
        ctx.static(base, "WorkDataRoot", lambda b: siren.work_data_root(b, all_href, ctx.max_upload_bytes))
    )


async def upload(request: Request) -> Response:
    """Upload: the file in part ``upload-file`` (its Content-Type is the media type), optional tags."""
    ctx, base = context(request)
    require_upload(request)
    async with request.form(max_files=1, max_fields=1) as form:
        file = uploaded_file(form, "the content")
        options = UploadWorkData()
        raw_options = form.get(PARAMETERS_FIELD)
        if isinstance(raw_options, str):
            try:
                options = parse_payload(UploadWorkData, load_json(raw_options))
            except ValueError as error:
                raise bad_request(f"{PARAMETERS_FIELD} is not valid JSON ({error})") from None
        data = await run_in_threadpool(ctx.workdata.upload, file.filename, file.content_type, options, file.file)
    return created(workdata_href(base, data.id))


def _tags_href(base: str, query: WorkDataTagsQuery) -> str:
    return f"{_root(base)}/UsedTags?q={encode_query(query)}"


async def used_tags(request: Request) -> Response:
    """Tags in use, over every WorkData or (from CreateWorkDataTagsQuery) those with RequiredTags."""
    ctx, base = context(request)
    token = request.query_params.get("q")
    query = WorkDataTagsQuery() if token is None else decode_query(WorkDataTagsQuery, token)
    where, args = workdata_where(WorkDataFilter(tags_by_and=query.required_tags))
    tags = ctx.store.workdata_tags(where, args)
    href = f"{_root(base)}/UsedTags" if token is None else _tags_href(base, query)
    return SirenResponse(siren.used_tags("WorkDataUsedTagsQueryResult", href, tags))


async def create_tags_query(request: Request) -> Response:
    _, base = context(request)
    return created(_tags_href(base, parse_payload(WorkDataTagsQuery, await json_body(request))))


async def get_work_data(request: Request) -> Response:
    ctx, base = context(request)
    return SirenResponse(siren.work_data(base, ctx.workdata.get(request.path_params["workdata_id"])))


async def download(request: Request) -> Response:
    """The bytes, typed exactly as the WorkData's media type (no charset added: the client
    compares the Content-Type with the Download link's type)."""
    ctx, _ = context(request)
    data = ctx.workdata.get(request.path_params["workdata_id"])
    path = content_path(ctx.workdata.data_dir, data.id)
    if not path.is_file():
        raise Problem(500, "Content missing", f"the content of WorkData {data.id} is gone from {path.parent}")
    return FileResponse(
        path,
        headers={"content-type": data.media_type, **siren.NO_STORE},
        filename=data.name,
    )


async def work_data_action(request: Request) -> Response:
    ctx, _ = context(request)
    ctx.workdata.act(request.path_params["workdata_id"], request.path_params["action"], await json_body(request))
    return done()


routes = [
    Route("/api/WorkDataRoot", work_data_root),
    Route("/api/WorkDataRoot/Upload", upload, methods=["POST"]),
    *WORKDATA_QUERY.routes(),
    Route("/api/WorkDataRoot/TagsQuery", create_tags_query, methods=["POST"]),
    Route("/api/WorkDataRoot/UsedTags", used_tags),
    Route("/api/WorkData/{workdata_id}", get_work_data),
    Route("/api/WorkData/{workdata_id}/Download", download),
    Route("/api/WorkData/{workdata_id}/{action}", work_data_action, methods=["POST"]),
]
