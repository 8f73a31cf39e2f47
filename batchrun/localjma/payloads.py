"""Request bodies of the JMA actions (protocol §3), validated on arrival.

Wire names are PascalCase; the models use snake_case with generated aliases. Unknown keys
are ignored (the client sends some the server need not understand, protocol §9.14).
URLs the client sends back are parsed, never string-compared: pydantic on the client side
normalises host case, default ports and trailing slashes (protocol §1.6.1).
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_pascal

from batchrun.localjma.problems import bad_request
from batchrun.nesting import deeper_than
from batchrun.states import JobState

SortType = Literal["None", "Ascending", "Descending"]
WorkDataKind = Literal["Unknown", "ClientUpload", "ProcessingArtefact", "Monitoring"]

M = TypeVar("M", bound=BaseModel)

MAX_JSON_DEPTH = 100
MAX_PAGE_OFFSET = 1_000_000_000
"""Far beyond any local store, and small enough for SQLite's 64-bit integers."""


class Payload(BaseModel):
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="ignore", frozen=True)


class CreateJob(Payload):
    name: str = Field(min_length=1)
    folder: str | None = None


class CreateSubJob(Payload):
    name: str = Field(min_length=1)
    parent_job_url: str
    inherit_parent_folder: bool = False


class InputDataSlotSelection(Payload):
    index: int
    work_data_urls: list[str] | None = None


class RapidSetup(Payload):
    name: str = Field(min_length=1)
    processing_step_url: str
    parent_job_url: str | None = None
    tags: list[str] | None = None
    parameters: str | None = None
    allow_output_data_deletion: bool | None = None
    input_data_slots: list[InputDataSlotSelection] | None = None
    start: bool = True


class SelectProcessing(Payload):
    processing_step_url: str


class EditTags(Payload):
    tags: list[str] | None


class Rename(Payload):
    new_name: str = Field(min_length=1)


class MoveToFolder(Payload):
    folder: str | None = None


class Deprecate(Payload):
    reason: str | None = None


class Pagination(Payload):
    page_size: int | None = Field(default=None, ge=1, le=1000)
    page_offset: int | None = Field(default=None, ge=0, le=MAX_PAGE_OFFSET)


class JobSort(Payload):
    property_name: Literal["Name", "CreatedAt", "CompletedAt"] | None = None
    sort_type: SortType | None = None


class JobFilter(Payload):
    state: JobState | None = None
    name: str | None = None
    show_hidden: bool | None = None
    work_data_url: str | None = None
    created_before: AwareDatetime | None = None
    created_after: AwareDatetime | None = None
    tags_by_and: list[str] | None = None
    tags_by_or: list[str] | None = None
    tag_query_expression: str | None = None
    processing_step_url: str | None = None
    is_sub_job: bool | None = None
    parent_job_url: str | None = None
    folder: str | None = None
    action_template_url: str | None = None


class JobQuery(Payload):
    pagination: Pagination | None = None
    sort_by: JobSort | None = None
    filter: JobFilter = JobFilter()
    include_remaining_tags: bool | None = None


class StepSort(Payload):
    property_name: Literal["Title", "CreatedAt", "LastModifiedAt", "Version"] | None = None
    sort_type: SortType | None = None


class StepFilter(Payload):
    function_name: str | None = None
    function_name_match_type: Literal["Contains", "MatchExact"] | None = None
    title_contains: str | None = None
    version: str | None = None
    description_contains: str | None = None
    tags_by_and: list[str] | None = None
    tags_by_or: list[str] | None = None
    tag_query_expression: str | None = None
    is_public: bool | None = None
    show_hidden: bool | None = None
    show_deprecated: bool | None = None
    deployment_state: str | None = None
    show_prerelease: bool | None = None
    pro_con_version: str | None = None
    folder: str | None = None


class StepQuery(Payload):
    pagination: Pagination | None = None
    sort_by: StepSort | None = None
    filter: StepFilter = StepFilter()
    include_remaining_tags: bool | None = None


class UploadWorkData(Payload):
    folder: str | None = None
    tags: list[str] | None = None
    secret: bool | None = None


class EditComment(Payload):
    comment: str | None = None


class WorkDataSort(Payload):
    property_name: Literal["Name", "MediaType", "Kind", "SizeInBytes", "CreatedAt"] | None = None
    sort_type: SortType | None = None


class WorkDataFilter(Payload):
    folder: str | None = None
    name_contains: str | None = None
    producer_processing_step_url: str | None = None
    show_hidden: bool | None = None
    media_type_contains: str | None = None
    tags_by_and: list[str] | None = None
    tags_by_or: list[str] | None = None
    tag_query_expression: str | None = None
    is_kind: WorkDataKind | None = None
    created_before: AwareDatetime | None = None
    created_after: AwareDatetime | None = None
    is_deletable: bool | None = None
    is_used: bool | None = None
    is_marked_as_secret: bool | None = None


class WorkDataQuery(Payload):
    pagination: Pagination | None = None
    sort_by: WorkDataSort | None = None
    filter: WorkDataFilter = WorkDataFilter()
    include_remaining_tags: bool | None = None


class WorkDataTagsQuery(Payload):
    required_tags: list[str] | None = None


class SelectWorkData(Payload):
    work_data_url: str


class SelectWorkDataCollection(Payload):
    work_data_urls: list[str] | None


def field_errors(error: ValidationError, whole: str = "body") -> list[str]:
    """pydantic's errors as ``Field.Path: message`` lines, in the wire's field names."""
    return [f"{'.'.join(str(p) for p in e['loc']) or whole}: {e['msg']}" for e in error.errors()]


def tag_list(tags: list[str] | None) -> tuple[str, ...]:
    """Tags as the platform takes them: non-empty ``key`` or ``key=value`` strings, no duplicates."""
    cleaned = tuple(dict.fromkeys(tags or ()))
    if any(not tag.strip() for tag in cleaned):
        raise bad_request("Tags: tags must be non-empty strings like 'key' or 'key=value'")
    return cleaned


def load_json(text: str | bytes) -> Any:
    """``json.loads`` for text from a request: nesting deeper than MAX_JSON_DEPTH is a ValueError too.

    Bounding the depth here means no later step (validation, storage, the workers) can run
    into Python's recursion limit on a hostile document.
    """
    too_deep = ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        document = json.loads(text)
    except RecursionError:
        raise too_deep from None
    if deeper_than(document, MAX_JSON_DEPTH):
        raise too_deep
    return document


def parse_json(raw: bytes) -> Any:
    """The body as JSON; an empty body (parameterless action) is ``None``."""
    if not raw.strip():
        return None
    try:
        return load_json(raw)
    except ValueError as error:
        raise bad_request(f"the request body is not valid JSON ({error})") from None


def parse_payload(model: type[M], data: Any) -> M:
    """Validate an action body; a 400 problem lists every wrong field."""
    if data is None:
        raise bad_request(f"this action needs a JSON body ({model.__name__} parameters)")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        errors = field_errors(error)
        raise bad_request("; ".join(errors), errors) from None


def resource_id(url: str, kind: str, field: str) -> str:
    """The id in ``{base}/api/{kind}/{id}``; scheme, host and trailing slash do not matter."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) < 2 or parts[-2] != kind:
        raise bad_request(f"{field} must be a {kind} URL like '<endpoint>/api/{kind}/<id>', got {url!r}")
    return parts[-1]
