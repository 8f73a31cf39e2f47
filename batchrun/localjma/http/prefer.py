"""``Prefer`` (RFC 7240): what a client may ask of a query's answer, and what it then gets.

* ``return=representation``: a created query's first page in the 201 answer. A query is
  created with a POST (201 and a Location) and read with a GET of that Location; batchrun
  asks for the page in the POST's answer and so saves one round trip per query.
* ``batchrun-items=read-only``: the client only reads the items of a query page and never
  acts on them, so a job's actions (more than half of its entity) are left out of them.
  The items are otherwise the full entities; a GET of one job still has its actions.

pinexq-client sends neither and gets the plain answers the protocol describes; a platform
that knows neither ignores them (RFC 7240 §2), and batchrun reads its answers as well.
``Preference-Applied`` names the preferences honoured.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from batchrun.localjma.http.siren import EncodedPage, SirenResponse, created, next_link_header

REPRESENTATION = "return=representation"
READ_ONLY_ITEMS = "batchrun-items=read-only"


def preferences(request: Request) -> set[str]:
    """The preferences a request states (``token=value``, lower case; parameters dropped)."""
    stated = request.headers.get("prefer", "").split(",")
    return {"".join(part.split(";", 1)[0].split()).lower() for part in stated} - {""}


def created_query(
    request: Request, location: str, first_page: Callable[[], EncodedPage], applied: tuple[str, ...] = ()
) -> Response:
    """201 with the Location; the page itself (marked as such) when the client prefers it.
    ``applied`` is what the page honours of the other preferences."""
    if REPRESENTATION not in preferences(request):
        return created(location)
    page = first_page()
    response = SirenResponse(page.body, status_code=201)
    response.headers.update(
        {"Location": location, "Content-Location": location,
         "Preference-Applied": ", ".join((REPRESENTATION, *applied)), **next_link_header(page)}
    )
    return response
