"""The portal's Starlette app, its routes and error pages, and :func:`with_portal`, which puts it
next to the API: ``/api`` and everything under it go to the API, every other path to the portal."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from batchrun.localjma.domain.errors import Conflict, DomainError, Invalid, NotFound
from batchrun.localjma.http.context import Context
from batchrun.localjma.http.limits import BodyLimit
from batchrun.localjma.http.problems import Problem
from batchrun.localjma.portal import actions, pages
from batchrun.localjma.portal.guard import PortalGuard
from batchrun.localjma.portal.rendering import page
from batchrun.localjma.portal.security import Sessions

STATIC = Path(__file__).with_name("static")
_STATUS = {NotFound: 404, Invalid: 400, Conflict: 409}

routes = [
    Route("/", pages.home),
    Route("/login", actions.login_page),
    Route("/login", actions.login, methods=["POST"]),
    Route("/logout", actions.logout, methods=["POST"]),
    Route("/jobs", pages.jobs_page),
    Route("/jobs/{job_id}", pages.job_page),
    Route("/jobs/{job_id}/action", actions.job_action, methods=["POST"]),
    Route("/batches", pages.batches_page),
    Route("/steps", pages.steps_page),
    Route("/steps/{step_id}", pages.step_page),
    Route("/steps/{step_id}/start", actions.start_job, methods=["POST"]),
    Route("/workdata", pages.workdata_page),
    Route("/workdata/upload", actions.upload, methods=["POST"]),
    Route("/workdata/{workdata_id}/download", pages.download),
    Route("/workdata/{workdata_id}/delete", actions.delete_workdata, methods=["POST"]),
    Route("/live", pages.live),
    Mount("/static", StaticFiles(directory=STATIC), name="static"),
]


def _error_page(request: Request, status: int, title: str, detail: str) -> Response:
    return page(request, "error.html", status, title=title, detail=detail)


async def _refused(request: Request, error: Exception) -> Response:
    assert isinstance(error, DomainError)
    status = next((code for kind, code in _STATUS.items() if isinstance(error, kind)), 409)
    return _error_page(request, status, "Not possible", error.detail)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        return _error_page(request, 404, "Not found", f"{request.url.path} is not a page of the portal")
    return _error_page(request, error.status_code, "Refused", str(error.detail))


async def _problem(request: Request, error: Exception) -> Response:
    assert isinstance(error, Problem)
    return _error_page(request, error.status, error.title, error.detail)


def portal_app(context: Context, api_key: str | None) -> ASGIApp:
    """The portal alone, guarded by its sessions (see :mod:`.security`)."""
    app = Starlette(routes=routes, exception_handlers={
        DomainError: _refused, HTTPException: _http_error, Problem: _problem,
    })
    app.state.context = context
    sessions = app.state.sessions = Sessions(api_key)
    return PortalGuard(BodyLimit(app, upload_bytes=context.max_upload_bytes), sessions)


class _SplitAtApi:
    """``/api`` and below to the API, the rest to the portal. A path with an ``/api/`` segment
    further in (an endpoint configured with a wrong prefix) goes to the API too, so the
    client gets the API's ProblemDetails pointing at ``/api/EntryPoint``, not an HTML page."""

    def __init__(self, api: ASGIApp, portal: ASGIApp) -> None:
        self.api = api
        self.portal = portal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        api = "/api/" in scope.get("path", "") + "/" or scope["type"] != "http"
        target = self.api if api else self.portal
        await target(scope, receive, send)


def with_portal(api: ASGIApp, context: Context, api_key: str | None) -> ASGIApp:
    """The server's app: the API as built, and the portal at every path outside ``/api``."""
    return _SplitAtApi(api, portal_app(context, api_key))
