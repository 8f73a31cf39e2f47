"""HTTP endpoints of the WorkDataRoot and of single WorkData; the operations live in the domain's ``workdata``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from batchrun.localjma.domain.folders import canonical_path
from batchrun.localjma.domain.queries import Search
from batchrun.localjma.domain.values import load_json, resource_id
from batchrun.localjma.domain.workdata import content_path
from batchrun.localjma.http import siren
from batchrun.localjma.http.context import Context, context
from batchrun.localjma.http.problems import Problem, bad_request
from batchrun.localjma.http.query_resource import QueryResource, decode_query, encode_query, refuse_unsupported, search
from batchrun.localjma.http.requests import (
    EditComment,
    EditTags,
    MoveToFolder,
    Rename,
    UploadWorkData,
    WorkDataQuery,
    WorkDataTagsQuery,
    json_body,
    parse_payload,
    require_upload,
    uploaded_file,
)
from batchrun.localjma.http.siren import SirenResponse, created, done, workdata_href
from batchrun.localjma.store import filters
from batchrun.localjma.store.rows import WorkDataRow

PARAMETERS_FIELD = "UploadWorkDataParameters"

#: What each WorkData action does with its body, once the WorkData allows the action.
ACTION_HANDLERS: dict[str, Callable[[Context, WorkDataRow, Any], object]] = {
    "EditTags": lambda ctx, data, body: ctx.workdata.edit_tags(data, parse_payload(EditTags, body).tags),
    "Rename": lambda ctx, data, body: ctx.workdata.rename(data, parse_payload(Rename, body).new_name),
    "EditComment": lambda ctx, data, body: ctx.workdata.edit_comment(data, parse_payload(EditComment, body).comment),
    "Hide": lambda ctx, data, _: ctx.workdata.set_hidden(data, True),
    "UnHide": lambda ctx, data, _: ctx.workdata.set_hidden(data, False),
    "MarkAsSecret": lambda ctx, data, _: ctx.workdata.mark_secret(data),
    "AllowDeletion": lambda ctx, data, _: ctx.workdata.set_deletable(data, True),
    "DisallowDeletion": lambda ctx, data, _: ctx.workdata.set_deletable(data, False),
    "MoveToFolder": lambda ctx, data, body: ctx.workdata.move_to_folder(
        data, ctx.folders.filing(parse_payload(MoveToFolder, body).folder, "Folder")
    ),
    "Delete": lambda ctx, data, _: ctx.workdata.delete(data),
}


def workdata_search(query: WorkDataQuery) -> Search[filters.WorkDataFilter]:
    f = query.filter
    refuse_unsupported(f.tag_query_expression)
    producer_step_id = None
    if f.producer_processing_step_url is not None:
        producer_step_id = resource_id(f.producer_processing_step_url, "ProcessingStep", "ProducerProcessingStepUrl")
    where = filters.WorkDataFilter(
        name_contains=f.name_contains, media_type_contains=f.media_type_contains, producer_step_id=producer_step_id,
        hidden=f.show_hidden, deletable=f.is_deletable, secret=f.is_marked_as_secret, kind=f.is_kind,
        used=f.is_used, created_before=f.created_before, created_after=f.created_after,
        tags_all=tuple(f.tags_by_and or ()), tags_any=tuple(f.tags_by_or or ()),
        folder_path=None if f.folder is None else canonical_path(f.folder), folder_recursive=bool(f.folder_recursive),
    )
    return search(where, query.sort_by, query.pagination, query.include_remaining_tags)


WORKDATA_QUERY = QueryResource(
    "/api/WorkDataRoot/Query", WorkDataQuery, "WorkDataQueryResult",
    search=workdata_search,
    find=lambda ctx, found: ctx.queries.workdata(found),
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
        filing = ctx.folders.filing(options.folder, f"{PARAMETERS_FIELD}.Folder")
        data = await run_in_threadpool(
            ctx.workdata.upload, file.filename, file.content_type, file.file,
            options.tags, bool(options.secret), filing,
        )
    return created(workdata_href(base, data.id))


def _tags_href(base: str, query: WorkDataTagsQuery) -> str:
    return f"{_root(base)}/UsedTags?q={encode_query(query)}"


async def used_tags(request: Request) -> Response:
    """Tags in use, over every WorkData or (from CreateWorkDataTagsQuery) those with RequiredTags."""
    ctx, base = context(request)
    token = request.query_params.get("q")
    query = WorkDataTagsQuery() if token is None else decode_query(WorkDataTagsQuery, token)
    tags = ctx.queries.workdata_tags(tuple(query.required_tags or ()))
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
    action = request.path_params["action"]
    body = await json_body(request)
    data = ctx.workdata.for_action(request.path_params["workdata_id"], action)
    ACTION_HANDLERS[action](ctx, data, body)
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
