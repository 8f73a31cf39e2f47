"""The JSON of an apply's hot path, written and read by batchrun itself.

An apply sends RapidSetupJob and query requests and reads the entry point, the two roots
and query pages; nothing else. pinexq-client models these with hundreds of generated
pydantic classes and entity objects, slow to import, and its query result objects
validate every Siren detail of every job, which adds up over a large batch. This module
writes the few request bodies with their wire names (tests compare them with the
client's models, the authority on the format) and reads only what batchrun uses from
each answer: small documents in one pydantic pass, job pages (a thousand jobs each, the
bulk of what a command reads) as typed dicts whose shape pydantic-core checks while it
parses (:func:`job_page`), as pydantic's objects per job and link cost more than the
parse itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, ClassVar, Generic, NotRequired, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from pydantic.alias_generators import to_pascal
from pydantic_core import to_json
from typing_extensions import TypedDict  # pydantic reads typing's only from Python 3.12

ENTRY_POINT = "api/EntryPoint"  # relative to the endpoint, as the client enters the API
#: The preference (RFC 7240) for query pages whose items come without their actions: batchrun
#: only reads the items, and a job's actions are more than half of its entity. The local JMA
#: honours it; other platforms ignore it and send full items, which are read alike.
READ_ONLY_ITEMS = "batchrun-items=read-only"


class ProtocolError(ValueError):
    """An answer that does not have what the Job-Management API protocol promises."""


# -- requests ---------------------------------------------------------------------------


def rapid_setup_body(
    *, name: str, step_url: str, tags: Sequence[str], parameters: Any, start: bool,
    inputs: Sequence[tuple[int, Sequence[str]]] = (),
) -> str:
    """A RapidSetupJob request: create, configure, tag, fill input slots (``inputs``: slot
    index and WorkData URLs) and (optionally) start one job."""
    document: dict[str, Any] = {"Name": name, "ProcessingStepUrl": step_url, "Tags": list(tags),
                                "Parameters": json.dumps(parameters), "Start": start}
    if inputs:
        document["InputDataSlots"] = [{"Index": index, "WorkDataUrls": list(urls)} for index, urls in inputs]
    return _dumps(document)


def job_query_body(
    *,
    page_size: int,
    tags_by_and: Sequence[str] | None = None,
    created_after: datetime | None = None,
    is_sub_job: bool | None = None,
    parent_job_url: str | None = None,
) -> str:
    """A CreateJobQuery request, oldest job first; filters left out when not given."""
    where = {
        "TagsByAnd": list(tags_by_and) if tags_by_and is not None else None,
        "CreatedAfter": created_after,
        "IsSubJob": is_sub_job,
        "ParentJobUrl": parent_job_url,
    }
    return _dumps(_query(page_size, "CreatedAt", "Ascending", where))


def step_query_body(*, page_size: int, function_name: str) -> str:
    """A CreateProcessingStepQuery request for every version of one function, newest first."""
    where = {"FunctionName": function_name, "FunctionNameMatchType": "MatchExact"}
    return _dumps(_query(page_size, "Version", "Descending", where))


def _query(page_size: int, sort_by: str, order: str, where: dict[str, Any]) -> dict[str, Any]:
    return {
        "Pagination": {"PageSize": page_size, "PageOffset": 0},
        "SortBy": {"PropertyName": sort_by, "SortType": order},
        "Filter": {name: value for name, value in where.items() if value is not None},
    }


def _dumps(document: dict[str, Any]) -> str:
    """Compact JSON; datetimes written as the client's models write them (ISO 8601, ``Z``)."""
    return to_json(document).decode()


# -- answers ----------------------------------------------------------------------------


class _Lenient(BaseModel):
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="ignore")


class SirenLink(BaseModel):
    rel: list[str]
    href: str


class SirenAction(BaseModel):
    name: str
    href: str


class Entity(BaseModel):
    """Any Siren entity, for the hrefs of its links and actions (entry point, roots, info)."""

    class_: list[str] = Field(default_factory=list, alias="class")
    properties: dict[str, Any] = Field(default_factory=dict)
    links: list[SirenLink] = Field(default_factory=list)
    actions: list[SirenAction] = Field(default_factory=list)

    def link_hrefs(self, *rels: str) -> tuple[str, ...]:
        """The hrefs of the links ``rels``; a missing one means this is not the resource expected."""
        found = {rel: _href(self.links, rel) for rel in rels}
        return self._all("link", found)

    def action_hrefs(self, *names: str) -> tuple[str, ...]:
        """The hrefs of the actions ``names`` (an action the server withholds is missing too)."""
        offered = {action.name: action.href for action in self.actions}
        return self._all("action", {name: offered.get(name) for name in names})

    def _all(self, kind: str, found: dict[str, str | None]) -> tuple[str, ...]:
        missing = [name for name, href in found.items() if href is None]
        if missing:
            entity = "/".join(self.class_) or "unnamed"
            raise ProtocolError(f"the {entity} entity has no {' or '.join(missing)} {kind}")
        return tuple(href for href in found.values() if href is not None)


class StepProperties(_Lenient):
    function_name: str | None = None
    version: str | None = None
    is_deprecated: bool | None = None
    parameter_schema: str | None = None


class _Item(BaseModel):
    class_: list[str] = Field(default_factory=list, alias="class")
    links: list[SirenLink] = Field(default_factory=list)

    @property
    def self_href(self) -> str | None:
        return _href(self.links, "self")


class StepItem(_Item):
    properties: StepProperties = Field(default_factory=StepProperties)


ItemT = TypeVar("ItemT", bound=_Item)


class Paged(Protocol):
    """A query result page, as far as following its pages goes."""

    @property
    def next_href(self) -> str | None: ...


PageT = TypeVar("PageT", bound=Paged)


class Page(BaseModel, Generic[ItemT]):
    """A query result entity: the items on this page and where the next page is."""

    KIND: ClassVar[str]  # the result's Siren class
    ITEM: ClassVar[str]  # its items' Siren class

    class_: list[str] = Field(alias="class")
    entities: list[ItemT] = Field(default_factory=list)
    links: list[SirenLink] = Field(default_factory=list)

    @field_validator("class_")
    @classmethod
    def _is_the_query_result(cls, value: list[str]) -> list[str]:
        if cls.KIND not in value:
            raise ValueError(f"expected a {cls.KIND}, got an entity of class {value}")
        return value

    @property
    def items(self) -> list[ItemT]:
        return [item for item in self.entities if self.ITEM in item.class_]

    @property
    def next_href(self) -> str | None:
        return _href(self.links, "next")


class StepPage(Page[StepItem]):
    KIND = "ProcessingStepQueryResult"
    ITEM = "ProcessingStep"


def _href(links: list[SirenLink], rel: str) -> str | None:
    return next((link.href for link in links if rel in link.rel), None)


# -- job pages, read in one pass ----------------------------------------------------------


class JobLink(TypedDict):
    rel: NotRequired[list[str] | None]
    href: str


class JobProperties(TypedDict, total=False):
    """What batchrun reads of a job (the platform sends more, which the read skips)."""

    Name: str | None
    State: str | None
    Tags: list[str] | None
    CreatedAt: str | None  # ISO 8601 texts, made datetimes by the record
    StartedAt: str | None
    CompletedAt: str | None
    ErrorDescription: str | None
    Result: str | None  # JSON text
    ConfiguredParameters: str | None  # JSON text


JobEntity = TypedDict("JobEntity", {
    "class": list[str] | None,
    "properties": JobProperties | None,
    "links": list[JobLink] | None,
    "entities": list[Any] | None,  # the data slots, as plain JSON (a job's outputs)
}, total=False)

JobPageDocument = TypedDict("JobPageDocument", {
    "class": list[str] | None,
    "entities": list[JobEntity] | None,
    "links": list[JobLink] | None,
}, total=False)


@cache
def _job_page_shape() -> TypeAdapter[JobPageDocument]:
    """A job page's shape, checked while it is parsed (by pydantic-core, a pass in Rust): the
    records are then made without a check per field, and what batchrun does not read is
    never made into Python objects. Built on the first page: commands that read none skip it."""
    return TypeAdapter(JobPageDocument)


@dataclass(frozen=True, slots=True)
class ItemPage:
    """A job query's page: its job entities, and where the next page is."""

    items: list[JobEntity]
    next_href: str | None


def job_page(body: bytes) -> ItemPage:
    """A job query's page (a ``JobQueryResult``) and its ``Job`` entities."""
    try:
        document = _job_page_shape().validate_json(body)
    except ValidationError as error:
        raise _page_error(error) from None
    if "JobQueryResult" not in (document.get("class") or ()):
        raise ProtocolError(f"expected a JobQueryResult, got an entity of class {document.get('class') or []}")
    next_href = None
    for link in document.get("links") or ():
        if "next" in (link.get("rel") or ()):
            next_href = link["href"]
            break
    items = [entity for entity in document.get("entities") or () if "Job" in (entity.get("class") or ())]
    return ItemPage(items, next_href)


def _page_error(error: ValidationError) -> ProtocolError:
    """What a job page that does not fit its shape is, in the protocol's words (its first fault)."""
    fault = error.errors(include_url=False)[0]
    where, found = fault["loc"], fault.get("input")
    if fault["type"] == "json_invalid":
        return ProtocolError(f"a JobQueryResult page is not JSON ({fault['msg']})")
    if not where:
        return ProtocolError(f"expected a JobQueryResult, got an entity of class {type(found).__name__}")
    item = where[1] if where[0] == "entities" and len(where) > 2 else None
    job = f"job {item + 1} of the page: " if isinstance(item, int) else ""  # counted from 1
    field = where[-2] if isinstance(where[-1], int) else where[-1]  # a list's field, not its item
    if field == "class":
        return ProtocolError(f"{job}an entity's class is {type(found).__name__}, not a list of texts")
    if field == "properties":
        return ProtocolError(f"{job}an entity's properties are {type(found).__name__}, not an object")
    if "links" in where:
        fault_text = "a link without an href" if field == "href" else f"a link whose {field} is not a list of texts"
        return ProtocolError(f"{job}{fault_text}: {str(found)[:200]}")
    if "properties" in where and field == "Tags":
        return ProtocolError(f"{job}property Tags is not a list of strings: {str(found)[:200]}")
    if "properties" in where:
        return ProtocolError(f"{job}property {field} is {type(found).__name__}, not a string")
    return ProtocolError(f"{job}{'.'.join(map(str, where))}: {fault['msg']}")


def classes(entity: dict[str, Any]) -> list[str]:
    """An entity's Siren classes (none when absent)."""
    found = entity.get("class")
    if found is None:
        return []
    if not isinstance(found, list):
        raise ProtocolError(f"an entity's class is {type(found).__name__}, not a list")
    return found


def sub_entities(entity: dict[str, Any]) -> list[dict[str, Any]]:
    """An entity's sub-entities that are objects (embedded links are skipped as the client does)."""
    found = entity.get("entities")
    if found is None:
        return []
    if not isinstance(found, list):
        raise ProtocolError(f"an entity's entities are {type(found).__name__}, not a list")
    return [sub for sub in found if isinstance(sub, dict)]


def link_hrefs(entity: dict[str, Any]) -> dict[str, str]:
    """Each rel of an entity's links and its href (the first link with that rel)."""
    hrefs: dict[str, str] = {}
    for found in entity.get("links") or ():
        href = found.get("href") if isinstance(found, dict) else None
        if not isinstance(href, str):
            raise ProtocolError(f"a link without an href: {str(found)[:200]}")
        for rel in found.get("rel") or ():
            hrefs.setdefault(rel, href)
    return hrefs


def properties_of(entity: dict[str, Any]) -> dict[str, Any]:
    found = entity.get("properties")
    if found is None:
        return {}
    if not isinstance(found, dict):
        raise ProtocolError(f"an entity's properties are {type(found).__name__}, not an object")
    return found


def text(properties: dict[str, Any], name: str) -> str | None:
    """A string property, None when absent or null."""
    value = properties.get(name)
    if value is None or isinstance(value, str):
        return value
    raise ProtocolError(f"property {name} is {type(value).__name__}, not a string")


def integer(properties: dict[str, Any], name: str) -> int | None:
    value = properties.get(name)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ProtocolError(f"property {name} is {type(value).__name__}, not an integer")


def timestamp(properties: dict[str, Any], name: str) -> datetime | None:
    """An ISO 8601 date-time property (a ``Z`` suffix and 7 fractional digits included)."""
    return iso_time(text(properties, name), name)


def iso_time(value: str | None, name: str) -> datetime | None:
    """The ISO 8601 date-time text ``value`` of property ``name`` (None when absent) as a datetime."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ProtocolError(f"property {name} is not an ISO 8601 date-time: {value[:100]!r}") from None
