"""The Starlette application: routes, ProblemDetails for every error, and the API-key guard."""

from __future__ import annotations

import hmac

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from batchrun.localjma.domain.errors import DomainError
from batchrun.localjma.http.context import Context
from batchrun.localjma.http.forwarded import ForwardedHeaders, Network
from batchrun.localjma.http.limits import BodyLimit
from batchrun.localjma.http.parameter_types import routes as parameter_type_routes
from batchrun.localjma.http.problems import Problem, problem_response, refusal
from batchrun.localjma.http.routes import eventlog, folders, jobs, monitoring, root, steps, workdata
from batchrun.localjma.http.stats import CountRequests, TrafficStats, stats_routes

_TITLES = {404: "Not found", 405: "Method not allowed"}


async def _problem(request: Request, error: Exception) -> Response:
    assert isinstance(error, Problem)
    return problem_response(error)


async def _refused(request: Request, error: Exception) -> Response:
    assert isinstance(error, DomainError)
    return problem_response(refusal(error))


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code in _TITLES:
        detail = f"{request.method} {request.url.path} is not part of the local JMA API; start from /api/EntryPoint"
    else:  # e.g. a malformed multipart body
        detail = f"{request.method} {request.url.path}: {error.detail}"
    return problem_response(Problem(error.status_code, _TITLES.get(error.status_code, "Invalid request"), detail))


async def _internal_error(request: Request, error: Exception) -> Response:
    detail = f"the local JMA failed on {request.method} {request.url.path}: {type(error).__name__}: {error}"
    return problem_response(Problem(500, "Internal error", detail))


class ApiKeyGuard:
    """Answers 401 to every request without the right ``x-api-key`` header.

    The key is compared in constant time and never echoed, not even in the error.
    """

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self._key = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            provided = next((value for name, value in scope["headers"] if name == b"x-api-key"), b"")
            if not hmac.compare_digest(provided, self._key):
                problem = Problem(
                    401,
                    "Unauthorized",
                    "missing or wrong x-api-key header: send the API key the local JMA was started with",
                )
                await problem_response(problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def build_app(
    context: Context,
    api_key: str | None = None,
    stats: TrafficStats | None = None,
    trusted_proxies: tuple[Network, ...] | None = (),
) -> ASGIApp:
    """The local JMA; with ``stats``, also its traffic counters (see :mod:`.stats`).

    ``trusted_proxies`` are the peers whose ``X-Forwarded-*`` headers decide the links
    (None: any peer; see :mod:`.forwarded`).
    """
    app = Starlette(
        routes=[
            *root.routes, *monitoring.routes, *jobs.routes, *steps.routes, *workdata.routes, *eventlog.routes,
            *folders.routes,
            *parameter_type_routes,
            *(stats_routes(stats) if stats is not None else []),
        ],
        exception_handlers={
            Problem: _problem, DomainError: _refused, HTTPException: _http_error, Exception: _internal_error,
        },
    )
    app.state.context = context
    limited = BodyLimit(ForwardedHeaders(app, trusted_proxies), upload_bytes=context.max_upload_bytes)
    guarded: ASGIApp = limited if api_key is None else ApiKeyGuard(limited, api_key)
    return guarded if stats is None else CountRequests(guarded, stats)
