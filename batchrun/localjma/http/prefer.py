"""``Prefer: return=representation`` (RFC 7240): a created query's first page in the 201 answer.

A query is created with a POST (201 and a Location) and read with a GET of that Location.
batchrun asks for the page in the POST's answer and so saves one round trip per query;
pinexq-client never sends the header and gets the plain 201 the protocol describes.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from batchrun.localjma.http.siren import Entity, SirenResponse, created

REPRESENTATION = "return=representation"


def wants_representation(request: Request) -> bool:
    preferences = request.headers.get("prefer", "").split(",")
    return any(part.split(";", 1)[0].strip().lower() == REPRESENTATION for part in preferences)


def created_query(request: Request, location: str, first_page: Callable[[], Entity]) -> Response:
    """201 with the Location; the page itself (marked as such) when the client prefers it."""
    if not wants_representation(request):
        return created(location)
    response = SirenResponse(first_page(), status_code=201)
    response.headers.update(
        {"Location": location, "Content-Location": location, "Preference-Applied": REPRESENTATION}
    )
    return response
