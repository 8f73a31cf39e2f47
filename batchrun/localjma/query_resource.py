"""A paged query resource: POST a query (201 and a Location), GET the pages of that Location.

Jobs, processing steps and WorkData are queried the same way (protocol §5); only the payload
model, the rows and the entity of a row differ. Each route module declares those in one
``QueryResource`` and takes its two endpoints from it, so the three answer alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from batchrun.localjma import siren
from batchrun.localjma.bodies import json_body
from batchrun.localjma.context import Context, context
from batchrun.localjma.payloads import parse_payload
from batchrun.localjma.prefer import created_query
from batchrun.localjma.queries import Page, Q, decode_query, encode_query, page_links, page_properties
from batchrun.localjma.siren import Entity, SirenResponse

T = TypeVar("T")


@dataclass(frozen=True)
class QueryResource(Generic[Q, T]):
    """What sets one query resource apart from the others.

    ``check`` refuses an unsupported filter at the POST (a 400 then, not on a later GET);
    ``item`` builds a row's entity as an ``item`` of the result.
    """

    path: str
    model: type[Q]
    result_class: str
    check: Callable[[Context, Q], object]
    find: Callable[[Context, Q], Page[T]]
    item: Callable[[Context, str, T], Entity]

    def href(self, base: str, query: Q) -> str:
        """The whole query rides in the URL, so the Location and every paging link keep working."""
        return f"{base}{self.path}?q={encode_query(query)}"

    def page(self, ctx: Context, base: str, query: Q) -> Entity:
        page = self.find(ctx, query)
        items = [self.item(ctx, base, row) for row in page.items]
        links = page_links(query, page, lambda paged: self.href(base, paged))
        return siren.query_result(self.result_class, page_properties(page), items, links)

    async def create(self, request: Request) -> Response:
        ctx, base = context(request)
        query = parse_payload(self.model, await json_body(request))
        self.check(ctx, query)
        return created_query(request, self.href(base, query), lambda: self.page(ctx, base, query))

    async def result(self, request: Request) -> Response:
        ctx, base = context(request)
        return SirenResponse(self.page(ctx, base, decode_query(self.model, request.query_params.get("q", ""))))

    def routes(self) -> list[Route]:
        return [Route(self.path, self.create, methods=["POST"]), Route(self.path, self.result)]
