"""A paged query resource: POST a query (201 and a Location), GET the pages of that Location.

A query is answered with 201 and a Location, and read with GET; the Location and every
paging link must keep working when fetched later. The whole query is therefore encoded in
the URL (``?q=`` base64url JSON), so no server state is kept per query. The ``next`` link
also carries where its page starts (``&after=``, the last row's ``seq``): a query in
creation order then reads each page from there, so page 100 costs what page 1 does, and
no row is skipped or repeated when rows are added or deleted in between. Clients follow
the link as it is; ``PageOffset`` still says how many rows came before. Jobs, processing
steps and WorkData are queried the same way; only the body model, the search it becomes,
the rows and the entity of a row differ. Each route module declares those in one
``QueryResource`` and takes its two endpoints from it, so the three answer alike.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from batchrun.collector import paused
from batchrun.localjma.domain.queries import DEFAULT_PAGE_SIZE, Page, Search, StepFilter
from batchrun.localjma.domain.values import load_json
from batchrun.localjma.http import siren
from batchrun.localjma.http.context import Context, context
from batchrun.localjma.http.prefer import READ_ONLY_ITEMS, created_query, preferences
from batchrun.localjma.http.problems import bad_request
from batchrun.localjma.http.requests import (
    FolderSort,
    JobSort,
    Pagination,
    StepSort,
    WorkDataSort,
    json_body,
    parse_payload,
)
from batchrun.localjma.http.siren import EncodedPage, Entity, SirenResponse, encode_items, link
from batchrun.localjma.store.filters import FolderFilter, JobFilter, Order, WorkDataFilter

Q = TypeVar("Q", bound=BaseModel)
F = TypeVar("F", JobFilter, WorkDataFilter, StepFilter, FolderFilter)  # as in Search
T = TypeVar("T")

#: The row field each sortable wire property sorts by.
SORT_FIELDS = {
    "Name": "name",
    "CreatedAt": "created_at",
    "CompletedAt": "completed_at",
    "MediaType": "media_type",
    "Kind": "kind",
    "SizeInBytes": "size",
    "Title": "function_name",
    "LastModifiedAt": "modified_at",
    "Version": "version",
    "Path": "path",
}


def encode_query(query: BaseModel) -> str:
    document = query.model_dump(by_alias=True, exclude_none=True, mode="json")
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_query(model: type[Q], token: str) -> Q:
    try:
        document = load_json(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return model.model_validate(document)
    except (ValueError, binascii.Error, ValidationError):
        raise bad_request("this query URL is damaged; run the query again to get a fresh one") from None


def search(
    filter: F,
    sort: JobSort | StepSort | WorkDataSort | FolderSort | None,
    pagination: Pagination | None,
    remaining_tags: bool | None,
) -> Search[F]:
    """The search a query asks for: newest first unless it names a sort property or direction."""
    order = None
    if sort is not None and (sort.property_name is not None or sort.sort_type not in (None, "None")):
        order = Order(SORT_FIELDS[sort.property_name or "CreatedAt"], sort.sort_type == "Descending")
    paging = pagination or Pagination()
    return Search(
        filter, order, paging.page_offset or 0, paging.page_size or DEFAULT_PAGE_SIZE, bool(remaining_tags)
    )


def refuse_unsupported(tag_query_expression: str | None) -> None:
    """400 for the filters the local JMA does not have."""
    if tag_query_expression:
        raise bad_request("TagQueryExpression: tag query expressions are not supported; use TagsByAnd or TagsByOr")


def page_properties(page: Page[Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "TotalEntities": page.total,
        "CurrentEntitiesCount": len(page.items),
        "PreviousEntitiesCount": page.offset,
    }
    if page.remaining_tags is not None:
        properties["RemainingTags"] = page.remaining_tags
    return properties


def page_links(query: Q, page: Page[Any], href: Callable[[Q], str], after: int | None = None) -> list[Entity]:
    """self/first/previous/next/last; the client's iteration follows only ``next``, which
    starts after this page's last row (``after``: where this page started)."""

    def at(offset: int) -> str:
        pagination = Pagination(page_size=page.size, page_offset=offset)
        return href(query.model_copy(update={"pagination": pagination}))

    def starting(offset: int, cursor: int | None) -> str:
        return at(offset) if cursor is None else f"{at(offset)}&after={cursor}"

    links = [link("self", starting(page.offset, after)), link("first", at(0))]
    if page.offset > 0:
        links.append(link("previous", at(max(page.offset - page.size, 0))))
    if page.more:
        links.append(link("next", starting(page.offset + page.size, page.cursor)))
    links.append(link("last", at(max(page.total - 1, 0) // page.size * page.size)))
    return links


def cursor(request: Request) -> int | None:
    """The ``after`` of a paging link: None on the query's own Location."""
    text = request.query_params.get("after")
    if text is None:
        return None
    if not text.isdigit():
        raise bad_request("this query URL is damaged; run the query again to get a fresh one")
    return int(text)


@dataclass(frozen=True)
class QueryResource(Generic[Q, F, T]):
    """What sets one query resource apart from the others.

    ``search`` turns the query into the domain's search and refuses an unsupported filter
    (at the POST: a 400 then, not on a later GET); ``find`` runs it; ``item`` builds a
    row's entity as an ``item`` of the result, and ``read_only_items`` (when given) encodes
    a page's rows as those entities without their actions (as ``siren.query_result`` takes
    them), for a client that prefers read-only items (see ``prefer``).
    ``check``, when given, runs at the POST too, for refusals that only running the search finds.
    """

    path: str
    model: type[Q]
    result_class: str
    search: Callable[[Q], Search[F]]
    find: Callable[[Context, Search[F]], Page[T]]
    item: Callable[[Context, str, T], Entity]
    check: Callable[[Context, Search[F]], object] | None = None
    read_only_items: Callable[[Context, str, list[T]], list[bytes | memoryview]] | None = None

    def href(self, base: str, query: Q) -> str:
        """The whole query rides in the URL, so the Location and every paging link keep working."""
        return f"{base}{self.path}?q={encode_query(query)}"

    def page(self, ctx: Context, base: str, query: Q, found: Search[F], read_only: bool = False) -> EncodedPage:
        """A page of results, encoded. The collector pauses while its rows and entities are
        made and encoded: a thousand of each, none in a cycle, and all freed before it runs
        again (had it run on a finished page, it would have walked every one of them)."""
        with paused():
            return self._page(ctx, base, query, found, read_only)

    def _page(self, ctx: Context, base: str, query: Q, found: Search[F], read_only: bool) -> EncodedPage:
        page = self.find(ctx, found)
        if read_only and self.read_only_items is not None:
            items = self.read_only_items(ctx, base, page.items)
        else:
            items = encode_items([self.item(ctx, base, row) for row in page.items])
        links = page_links(query, page, lambda paged: self.href(base, paged), found.after)
        following = next((each["href"] for each in links if each["rel"] == ["next"]), None)
        return EncodedPage(siren.query_result(self.result_class, page_properties(page), items, links), following)

    def read_only(self, request: Request) -> bool:
        """True when the client prefers read-only items and this resource has them."""
        return self.read_only_items is not None and READ_ONLY_ITEMS in preferences(request)

    async def create(self, request: Request) -> Response:
        ctx, base = context(request)
        query = parse_payload(self.model, await json_body(request))
        found = self.search(query)
        if self.check is not None:
            self.check(ctx, found)
        read_only = self.read_only(request)
        return created_query(
            request, self.href(base, query), lambda: self.page(ctx, base, query, found, read_only),
            (READ_ONLY_ITEMS,) if read_only else (),
        )

    async def result(self, request: Request) -> Response:
        ctx, base = context(request)
        query = decode_query(self.model, request.query_params.get("q", ""))
        found = replace(self.search(query), after=cursor(request))
        read_only = self.read_only(request)
        page = self.page(ctx, base, query, found, read_only)
        response = SirenResponse(page.body)
        response.headers.update(siren.next_link_header(page))
        if read_only:
            response.headers["Preference-Applied"] = READ_ONLY_ITEMS
        return response

    def routes(self) -> list[Route]:
        return [Route(self.path, self.create, methods=["POST"]), Route(self.path, self.result)]
