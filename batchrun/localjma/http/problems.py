"""ProblemDetails errors (RFC 7807), the only error format the client understands.

The client maps the body's numeric ``status`` to its exceptions and ``LinkHco.exists()``
crashes without it, so every error, including 404/405 from routing, goes through here.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from batchrun.localjma.domain.errors import AlreadyRegistered, Conflict, DomainError, Invalid, NotFound

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """A request the local JMA refuses: ``detail`` says what went wrong and how to fix it."""

    def __init__(self, status: int, title: str, detail: str, errors: list[str] | None = None) -> None:
        super().__init__(f"{title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors


#: The status and title each kind of domain refusal is answered with.
_REFUSALS: dict[type[DomainError], tuple[int, str]] = {
    Invalid: (400, "Invalid request"),
    NotFound: (404, "Not found"),
    Conflict: (409, "Action not allowed"),
    AlreadyRegistered: (409, "Processing step exists"),
}


def refusal(error: DomainError) -> Problem:
    """The problem that answers a domain refusal."""
    status, title = _REFUSALS[type(error)]
    return Problem(status, title, error.detail, error.errors if isinstance(error, Invalid) else None)


def bad_request(detail: str, errors: list[str] | None = None) -> Problem:
    return refusal(Invalid(detail, errors))


def not_found(what: str) -> Problem:
    return refusal(NotFound(what))


def problem_response(problem: Problem) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.errors:
        body["errors"] = problem.errors
    return Response(
        json.dumps(body).encode(),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={"Cache-Control": "no-store"},
    )
