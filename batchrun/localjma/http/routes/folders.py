"""HTTP endpoints of the FolderRoot and of single folders; the operations live in the domain's ``folders``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from batchrun.localjma.domain.folders import FolderService
from batchrun.localjma.domain.queries import Search
from batchrun.localjma.domain.values import resource_id
from batchrun.localjma.http import siren
from batchrun.localjma.http.context import Context, context
from batchrun.localjma.http.problems import not_found
from batchrun.localjma.http.query_resource import QueryResource, search
from batchrun.localjma.http.requests import (
    CreateFolder,
    FolderChildren,
    FolderQuery,
    MoveFolder,
    RenameFolder,
    json_body,
    parse_payload,
)
from batchrun.localjma.http.siren import SirenResponse, created, done, folder_href
from batchrun.localjma.store import filters
from batchrun.localjma.store.rows import FolderRow

#: What each folder action does with its body.
ACTION_HANDLERS: dict[str, Callable[[FolderService, FolderRow, Any], object]] = {
    "Rename": lambda folders, folder, data: folders.rename(folder, parse_payload(RenameFolder, data).new_name),
    "Move": lambda folders, folder, data: folders.move(folder, parse_payload(MoveFolder, data).new_parent_folder),
    "Delete": lambda folders, folder, _: folders.delete(folder),
}


def folder_search(query: FolderQuery) -> Search[filters.FolderFilter]:
    f = query.filter
    parent_id = None if f.parent_folder is None else resource_id(f.parent_folder, "Folder", "ParentFolder")
    where = filters.FolderFilter(parent_id=parent_id, name_contains=f.name_contains, path_prefix=f.path_prefix)
    return search(where, query.sort_by, query.pagination, False)


def children_search(query: FolderChildren) -> Search[filters.FolderFilter]:
    parent_id = None if query.parent_folder is None else resource_id(query.parent_folder, "Folder", "ParentFolder")
    return search(filters.FolderFilter(parent_id=parent_id, top_level=parent_id is None), None, query.pagination, False)


def folder_entity(ctx: Context, base: str, row: FolderRow, rel: str | None = None) -> siren.Entity:
    children = CHILDREN.href(base, FolderChildren(parent_folder=folder_href(base, row.id)))
    return siren.folder(base, row, ctx.user_id, children, rel)


FOLDER_QUERY = QueryResource(
    "/api/FolderRoot/Query", FolderQuery, "FolderQueryResult",
    search=folder_search,
    find=lambda ctx, found: ctx.queries.folders(found),
    item=lambda ctx, base, row: folder_entity(ctx, base, row, rel="item"),
)
CHILDREN = QueryResource(
    "/api/FolderRoot/Children", FolderChildren, "FolderChildrenResult",
    search=children_search,
    find=lambda ctx, found: ctx.queries.folders(found),
    item=lambda ctx, base, row: folder_entity(ctx, base, row, rel="item"),
)


async def folder_root(request: Request) -> Response:
    ctx, base = context(request)
    all_href, children = FOLDER_QUERY.href(base, FolderQuery()), CHILDREN.href(base, FolderChildren())
    return SirenResponse(ctx.static(base, "FolderRoot", lambda b: siren.folder_root(b, all_href, children)))


async def create_folder(request: Request) -> Response:
    ctx, base = context(request)
    payload = parse_payload(CreateFolder, await json_body(request))
    return created(folder_href(base, ctx.folders.create(payload.name, payload.parent_folder).id))


async def get_folder(request: Request) -> Response:
    ctx, base = context(request)
    return SirenResponse(folder_entity(ctx, base, ctx.folders.get(request.path_params["folder_id"])))


async def folder_action(request: Request) -> Response:
    ctx, _ = context(request)
    action = request.path_params["action"]
    data = await json_body(request)
    folder = ctx.folders.get(request.path_params["folder_id"])
    handler = ACTION_HANDLERS.get(action)
    if handler is None:
        raise not_found(f"folder action {action}")
    handler(ctx.folders, folder, data)
    return done()


routes = [
    Route("/api/FolderRoot", folder_root),
    Route("/api/FolderRoot/CreateFolder", create_folder, methods=["POST"]),
    *FOLDER_QUERY.routes(),
    *CHILDREN.routes(),
    Route("/api/Folder/{folder_id}", get_folder),
    Route("/api/Folder/{folder_id}/{action}", folder_action, methods=["POST"]),
]
