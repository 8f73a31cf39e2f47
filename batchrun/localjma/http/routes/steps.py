"""HTTP endpoints of the ProcessingStepRoot and of single processing steps."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from batchrun.localjma.domain.queries import Search, StepFilter
from batchrun.localjma.domain.steps import StepRegistry
from batchrun.localjma.domain.values import load_json
from batchrun.localjma.http import siren
from batchrun.localjma.http.context import context
from batchrun.localjma.http.limits import MAX_JSON_BYTES, too_large
from batchrun.localjma.http.problems import bad_request
from batchrun.localjma.http.query_resource import QueryResource, refuse_unsupported, search
from batchrun.localjma.http.requests import (
    Deprecate,
    EditTags,
    StepQuery,
    json_body,
    parse_payload,
    require_upload,
    uploaded_file,
)
from batchrun.localjma.http.siren import SirenResponse, created, done, step_href
from batchrun.localjma.store.rows import StepRow

#: What each step action does with its body, once the step allows the action.
ACTION_HANDLERS: dict[str, Callable[[StepRegistry, StepRow, Any], object]] = {
    "EditTags": lambda registry, step, data: registry.edit_tags(step, parse_payload(EditTags, data).tags),
    "Hide": lambda registry, step, _: registry.set_hidden(step, True),
    "UnHide": lambda registry, step, _: registry.set_hidden(step, False),
    "Deprecate": lambda registry, step, data: registry.deprecate(step, parse_payload(Deprecate, data).reason),
    "Restore": lambda registry, step, _: registry.restore(step),
}


def step_search(query: StepQuery) -> Search[StepFilter]:
    f = query.filter
    refuse_unsupported(f.tag_query_expression)
    if f.folder not in (None, "/"):
        raise bad_request("Folder: processing steps are not filed in folders on the local JMA; leave Folder out")
    where = StepFilter(
        function_name=f.function_name, exact_function_name=f.function_name_match_type == "MatchExact",
        title_contains=f.title_contains, version=f.version, description_contains=f.description_contains,
        tags_all=tuple(f.tags_by_and or ()), tags_any=tuple(f.tags_by_or or ()), public=f.is_public,
        hidden=f.show_hidden, deprecated=f.show_deprecated, prerelease=f.show_prerelease,
        deployment_state=f.deployment_state, procon_version=f.pro_con_version,
    )
    return search(where, query.sort_by, query.pagination, query.include_remaining_tags)


STEP_QUERY = QueryResource(
    "/api/ProcessingStepsRoot/Query", StepQuery, "ProcessingStepQueryResult",
    search=step_search,
    find=lambda ctx, found: ctx.queries.steps(found),
    item=lambda ctx, base, step: siren.step(base, step, ctx.registry.is_implemented(step), rel="item"),
    check=lambda ctx, found: ctx.queries.steps(found),  # steps are few: the whole search is the check
)


async def steps_root(request: Request) -> Response:
    ctx, base = context(request)
    all_href = STEP_QUERY.href(base, StepQuery())
    return SirenResponse(ctx.static(base, "ProcessingStepsRoot", lambda b: siren.steps_root(b, all_href)))


async def register_step(request: Request) -> Response:
    """RegisterNewProcessingStep: a multipart upload of a procon manifest (``upload-file``)."""
    ctx, base = context(request)
    require_upload(request)
    async with request.form(max_files=1, max_fields=1) as form:
        content = await uploaded_file(form, "the manifest").read(MAX_JSON_BYTES + 1)
    if len(content) > MAX_JSON_BYTES:
        raise too_large(MAX_JSON_BYTES)
    try:
        document = load_json(content)
    except ValueError as error:
        raise bad_request(f"the uploaded manifest is not valid JSON ({error})") from None
    return created(step_href(base, ctx.registry.register_manifest(document).id))


async def used_tags(request: Request) -> Response:
    ctx, base = context(request)
    href = f"{base}/api/ProcessingStepsRoot/UsedTags"
    return SirenResponse(siren.used_tags("ProcessingStepUsedTags", href, ctx.queries.step_tags()))


async def get_step(request: Request) -> Response:
    ctx, base = context(request)
    step = ctx.registry.step(request.path_params["step_id"])
    return SirenResponse(siren.step(base, step, ctx.registry.is_implemented(step)))


async def download_manifest(request: Request) -> Response:
    ctx, _ = context(request)
    manifest = ctx.registry.step(request.path_params["step_id"]).manifest
    return Response(json.dumps(manifest, indent=2).encode(), media_type="application/json", headers=siren.NO_STORE)


async def step_action(request: Request) -> Response:
    ctx, _ = context(request)
    action = request.path_params["action"]
    step = ctx.registry.for_action(request.path_params["step_id"], action)
    ACTION_HANDLERS[action](ctx.registry, step, await json_body(request))
    return done()


routes = [
    Route("/api/ProcessingStepsRoot", steps_root),
    Route("/api/ProcessingStepsRoot/Register", register_step, methods=["POST"]),
    *STEP_QUERY.routes(),
    Route("/api/ProcessingStepsRoot/UsedTags", used_tags),
    Route("/api/ProcessingStep/{step_id}", get_step),
    Route("/api/ProcessingStep/{step_id}/Download", download_manifest),
    Route("/api/ProcessingStep/{step_id}/{action}", step_action, methods=["POST"]),
]
