"""What a person does in the portal (POST): sign in and out, start a job, job actions, upload, delete.

Every handler checks the CSRF token first (:func:`checked_form`) and then calls the same
domain operation the API's action runs; a refusal is shown on the page it came from,
with the platform's reason.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from batchrun.localjma.domain.errors import Conflict, Invalid, NotFound
from batchrun.localjma.domain.jobs import JobSetup
from batchrun.localjma.domain.slot_declarations import input_slots, missing_inputs, slot_name
from batchrun.localjma.domain.workdata import WorkDataService
from batchrun.localjma.http.routes.jobs import ACTION_HANDLERS
from batchrun.localjma.http.siren import step_href, workdata_href
from batchrun.localjma.portal import forms
from batchrun.localjma.portal.guard import session_cookie
from batchrun.localjma.portal.pages import JOB_BUTTONS, ctx_of, job_view, step_view
from batchrun.localjma.portal.rendering import page
from batchrun.localjma.portal.security import checked_form, session_of
from batchrun.localjma.store.rows import StepRow, WorkDataRow
from batchrun.parameters import parameter_errors

KEY_FIELD = "api_key"
SLOT_FIELD = "slot-{}"
UPLOAD_FIELD = "slot-{}-upload"


async def login_page(request: Request) -> Response:
    if session_of(request).signed_in:
        return RedirectResponse("/jobs", 303)
    return page(request, "login.html", key_field=KEY_FIELD)


async def login(request: Request) -> Response:
    form = await checked_form(request)
    key = form.get(KEY_FIELD)
    signed_in = request.app.state.sessions.sign_in(session_of(request), key if isinstance(key, str) else "")
    if signed_in is None:
        return page(request, "login.html", 401, key_field=KEY_FIELD,
                    problem="That is not the API key this server was started with.")
    response = RedirectResponse("/jobs", 303)
    response.headers.append("set-cookie", session_cookie(signed_in))
    return response


async def logout(request: Request) -> Response:
    await checked_form(request)
    request.app.state.sessions.drop(session_of(request))
    return RedirectResponse("/login" if request.app.state.sessions.key_required else "/jobs", 303)


async def job_action(request: Request) -> Response:
    ctx = ctx_of(request)
    form = await checked_form(request)
    action, job_id = form.get("action"), request.path_params["job_id"]
    if not isinstance(action, str) or action not in JOB_BUTTONS:
        raise Invalid(f"action must be one of {', '.join(JOB_BUTTONS)}")
    try:
        job = ctx.jobs.for_action(job_id, action)
        ACTION_HANDLERS[action](ctx, job, None)
    except Conflict as refused:
        return page(request, "job.html", 409, nav="jobs", problem=refused.detail,
                    **job_view(ctx, ctx.jobs.get(job_id)))
    return RedirectResponse("/jobs" if action == "Delete" else f"/jobs/{job_id}", 303)


def _uploaded(form: FormData, name: str) -> UploadFile | None:
    value = form.get(name)
    return value if isinstance(value, UploadFile) and value.filename else None


async def _upload(service: WorkDataService, file: UploadFile, tags: list[str] | None = None) -> WorkDataRow:
    return await run_in_threadpool(service.upload, file.filename, file.content_type, file.file, tags)


def _lines(text: object) -> list[str]:
    """Tags as typed: one per line."""
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


async def start_job(request: Request) -> Response:
    """Create, configure and start a job from the step's form (the API's RapidSetupJob).

    Files given for input slots are uploaded first and stay selected if the platform then
    refuses the job, so fixing a parameter does not mean uploading again.
    """
    ctx = ctx_of(request)
    form = await checked_form(request)
    step = ctx.registry.step(request.path_params["step_id"])
    answers = {key: value for key, value in form.items() if isinstance(value, str)}
    form_fields = forms.fields(step.manifest.get("parameters"))
    parameters, errors = forms.parse(form_fields, answers)
    chosen: dict[int, list[str]] = {}
    for index in range(len(input_slots(step))):
        chosen[index] = [value for value in form.getlist(SLOT_FIELD.format(index)) if isinstance(value, str) and value]
        file = _uploaded(form, UPLOAD_FIELD.format(index))
        if file is not None:
            chosen[index].append((await _upload(ctx.workdata, file)).id)
    if errors:
        return page(request, "step.html", 400, nav="steps", **step_view(ctx, step, answers, errors, None, chosen))
    setup = JobSetup(
        answers.get("job-name", "").strip() or step.function_name, step_href("", step.id),
        tags=_lines(answers.get("job-tags")), parameters=json.dumps(parameters),
        inputs={index: [workdata_href("", i) for i in ids] for index, ids in chosen.items()},
    )
    try:
        _check_all(step, parameters, chosen)
        job = await run_in_threadpool(ctx.jobs.rapid_setup, setup)
    except Invalid as refused:
        errors, problem = _placed(refused, form_fields, input_slots(step))
        return page(request, "step.html", 400, nav="steps", **step_view(ctx, step, answers, errors, problem, chosen))
    return RedirectResponse(f"/jobs/{job.id}", 303)


def _check_all(step: StepRow, parameters: dict[str, Any], chosen: dict[int, list[str]]) -> None:
    """Every parameter and input slot problem at once, by the platform's own rules (its
    RapidSetupJob stops at the first kind of problem); ``rapid_setup`` still has the last word."""
    problems = missing_inputs(step, {index: len(ids) for index, ids in chosen.items()})
    problems += parameter_errors(step.manifest.get("parameters"), parameters)
    if problems:
        raise Invalid("; ".join(problems), problems)


def _placed(refused: Invalid, form_fields: list[forms.Field], slots: list[dict[str, object]]
            ) -> tuple[dict[str, str], str | None]:
    """The platform's messages by the field they are about; the rest as one problem for the form."""
    placed: dict[str, str] = {}
    rest: list[str] = []
    slot_names = {slot_name(slot): SLOT_FIELD.format(index) for index, slot in enumerate(slots)}
    for message in refused.errors or [refused.detail]:
        name = forms.platform_field(message, form_fields)
        slot = next((field for slot, field in slot_names.items() if f"slot '{slot}'" in message), None)
        target = name or slot
        if target is None:
            rest.append(message)
        else:
            placed[target] = f"{placed[target]}; {message}" if target in placed else message
    return placed, "; ".join(rest) or None


async def upload(request: Request) -> Response:
    ctx = ctx_of(request)
    form = await checked_form(request)
    file = _uploaded(form, "file")
    if file is None:
        raise Invalid("choose a file to upload")
    await _upload(ctx.workdata, file, _lines(form.get("tags")))
    return RedirectResponse("/workdata", 303)


async def delete_workdata(request: Request) -> Response:
    ctx = ctx_of(request)
    await checked_form(request)
    try:
        data = ctx.workdata.for_action(request.path_params["workdata_id"], "Delete")
    except NotFound:
        return RedirectResponse("/workdata", 303)
    ctx.workdata.delete(data)
    return RedirectResponse("/workdata", 303)
