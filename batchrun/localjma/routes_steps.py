"""HTTP endpoints of the ProcessingStepRoot and of single processing steps."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from batchrun.localjma import siren
from batchrun.localjma.context import Context, context
from batchrun.localjma.bodies import json_body, require_upload, uploaded_file
from batchrun.localjma.limits import MAX_JSON_BYTES, too_large
from batchrun.localjma.payloads import Deprecate, EditTags, StepQuery, load_json, parse_payload, tag_list
from batchrun.localjma.problems import bad_request, conflict, not_found
from batchrun.localjma.queries import Page, find_steps
from batchrun.localjma.query_resource import QueryResource
from batchrun.localjma.registry import StepRegistry
from batchrun.localjma.siren import SirenResponse, created, done, step_href
from batchrun.localjma.store import StepRow, utc_now


def _find(ctx: Context, query: StepQuery) -> Page[StepRow]:
    return find_steps(ctx.registry, query)


STEP_QUERY = QueryResource(
    "/api/ProcessingStepsRoot/Query", StepQuery, "ProcessingStepQueryResult",
    check=_find,  # steps are few: the whole search is the check
    find=_find,
    item=lambda ctx, base, step: siren.step(base, step, ctx.registry.is_implemented(step), rel="item"),
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
    tags = sorted({tag for step in ctx.registry.all() for tag in step.tags})
    href = f"{base}/api/ProcessingStepsRoot/UsedTags"
    return SirenResponse(siren.used_tags("ProcessingStepUsedTags", href, tags))


def _step(registry: StepRegistry, request: Request) -> StepRow:
    step = registry.get(request.path_params["step_id"])
    if step is None:
        raise not_found(f"processing step {request.path_params['step_id']}")
    return step


async def get_step(request: Request) -> Response:
    ctx, base = context(request)
    step = _step(ctx.registry, request)
    return SirenResponse(siren.step(base, step, ctx.registry.is_implemented(step)))


async def download_manifest(request: Request) -> Response:
    ctx, _ = context(request)
    manifest = _step(ctx.registry, request).manifest
    return Response(json.dumps(manifest, indent=2).encode(), media_type="application/json", headers=siren.NO_STORE)


def _changes(action: str, data: Any) -> dict[str, Any]:
    if action == "EditTags":
        return {"tags": tag_list(parse_payload(EditTags, data).tags)}
    if action in ("Hide", "UnHide"):
        return {"hidden": action == "Hide"}
    if action == "Deprecate":
        return {"deprecated_at": utc_now(), "deprecation_reason": parse_payload(Deprecate, data).reason}
    return {"deprecated_at": None, "deprecation_reason": None}


async def step_action(request: Request) -> Response:
    ctx, base = context(request)
    step = _step(ctx.registry, request)
    action = request.path_params["action"]
    offered = {a["name"] for a in siren.step_actions(step_href(base, step.id), step)}
    if action not in offered:
        if action in ("EditTags", "Hide", "UnHide", "Deprecate", "Restore"):
            raise conflict(f"{action} is not available for {step.function_name}@{step.version} in its current state")
        raise not_found(f"action {action!r} on processing steps")
    ctx.registry.update(step, **_changes(action, await json_body(request)))
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
