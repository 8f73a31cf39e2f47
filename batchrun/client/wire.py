"""The JSON of an apply's hot path, written and read by batchrun itself.

An apply sends RapidSetupJob and query requests and reads the entry point, the two roots
and query pages; nothing else. pinexq-client models these with hundreds of generated
pydantic classes and entity objects, slow to import, and its query result objects
validate every Siren detail of every job, which adds up over a large batch. This module
writes the few request bodies with their wire names (tests compare them with the
client's models, the authority on the format) and reads only what batchrun uses from
each answer, in one pydantic pass per document.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_pascal
from pydantic_core import to_json

ENTRY_POINT = "api/EntryPoint"  # relative to the endpoint, as the client enters the API


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


class JobProperties(_Lenient):
    name: str | None = None
    state: str | None = None
    tags: list[str] | None = None
    result: str | None = None
    error_description: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    configured_parameters: str | None = None


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


class WorkDataProperties(_Lenient):
    name: str | None = None
    media_type: str | None = None
    size_in_bytes: int | None = None
    created_at: datetime | None = None


class WorkDataItem(_Item):
    """A WorkData embedded in a job's data slot (rel ``Assigned`` or ``Selected``)."""

    properties: WorkDataProperties = Field(default_factory=WorkDataProperties)

    @property
    def download_href(self) -> str | None:
        return _href(self.links, "Download")


class SlotProperties(_Lenient):
    name: str | None = None
    media_type: str | None = None


class SlotItem(_Item):
    """A data slot embedded in a job, with the WorkData it holds."""

    properties: SlotProperties = Field(default_factory=SlotProperties)
    entities: list[WorkDataItem] = Field(default_factory=list)


class JobItem(_Item):
    properties: JobProperties = Field(default_factory=JobProperties)
    # Query pages carry full job entities, data slots included: a job's outputs come
    # with the page (jobs of steps without slots have none, and cost nothing more).
    entities: list[SlotItem] = Field(default_factory=list)

    @property
    def logs_href(self) -> str | None:
        return _href(self.links, "Logs")

    @property
    def metrics_href(self) -> str | None:
        return _href(self.links, "Metrics")

    @property
    def output_slots(self) -> list[SlotItem]:
        return [slot for slot in self.entities if "OutputDataSlot" in slot.class_]


class StepItem(_Item):
    properties: StepProperties = Field(default_factory=StepProperties)


ItemT = TypeVar("ItemT", bound=_Item)


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


class JobPage(Page[JobItem]):
    KIND = "JobQueryResult"
    ITEM = "Job"


class StepPage(Page[StepItem]):
    KIND = "ProcessingStepQueryResult"
    ITEM = "ProcessingStep"


def _href(links: list[SirenLink], rel: str) -> str | None:
    return next((link.href for link in links if rel in link.rel), None)
