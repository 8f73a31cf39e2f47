"""Request bodies: their content types, and the JMA actions' parameters validated on arrival.

The client sends ``Content-Type: application/json`` with every JSON action, parameterless
ones included, and ``multipart/form-data`` with uploads. A body of any other type is
refused with 415 rather than guessed at, so a form post or a text body can never be
mistaken for an action.

Wire names are PascalCase; the models use snake_case with generated aliases. Unknown keys
are ignored (the client sends some the server need not understand).
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_pascal
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from batchrun.localjma.domain.errors import field_errors
from batchrun.localjma.domain.values import load_json
from batchrun.localjma.http.problems import Problem, bad_request
from batchrun.states import JobState

JSON_MEDIA_TYPE = "application/json"
MULTIPART_MEDIA_TYPE = "multipart/form-data"
UPLOAD_PART = "upload-file"

SortType = Literal["None", "Ascending", "Descending"]
WorkDataKind = Literal["Unknown", "ClientUpload", "ProcessingArtefact", "Monitoring"]

M = TypeVar("M", bound=BaseModel)

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
    start: bool = False
    """As on the platform: without ``Start`` the job is left ReadyForProcessing."""


class SelectProcessing(Payload):
    processing_step_url: str


class EditTags(Payload):
    tags: list[str] | None


class Rename(Payload):
    new_name: str = Field(min_length=1)


class MoveToFolder(Payload):
    folder: str | None = None


class CreateFolder(Payload):
    name: str = Field(min_length=1)
    parent_folder: str | None = None


class RenameFolder(Payload):
    new_name: str = Field(min_length=1)


class MoveFolder(Payload):
    new_parent_folder: str | None = None


class FolderSort(Payload):
    property_name: Literal["Name", "Path", "CreatedAt"] | None = None
    sort_type: SortType | None = None


class FolderFilter(Payload):
    parent_folder: str | None = None
    name_contains: str | None = None
    path_prefix: str | None = None


class FolderQuery(Payload):
    pagination: Pagination | None = None
    sort_by: FolderSort | None = None
    filter: FolderFilter = FolderFilter()


class FolderChildren(Payload):
    """The query behind a folder's (or, without ``parent_folder``, the root's) Children link."""

    parent_folder: str | None = None
    pagination: Pagination | None = None


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
    folder_recursive: bool | None = None
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
    folder_recursive: bool | None = None
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


def media_type(request: Request) -> str:
    """The request's media type without parameters, lower case; empty when not given."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def unsupported(got: str, wanted: str) -> Problem:
    return Problem(415, "Unsupported media type", f"send this request as {wanted}, not {got or 'untyped data'}")


def _is_json(kind: str) -> bool:
    return kind == JSON_MEDIA_TYPE or kind.endswith("+json")


async def json_body(request: Request) -> Any:
    """The JSON body of an action (None when empty); 415 unless it is typed as JSON."""
    kind = media_type(request)
    if kind and not _is_json(kind):
        raise unsupported(kind, JSON_MEDIA_TYPE)
    raw = await request.body()
    if not kind and raw.strip():
        raise unsupported(kind, JSON_MEDIA_TYPE)
    return parse_json(raw)


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


def uploaded_file(form: FormData, what: str) -> UploadFile:
    """The upload's file part ``upload-file``; 400 naming ``what`` belongs there when it is missing."""
    part = form.get(UPLOAD_PART)
    if not isinstance(part, UploadFile):
        raise bad_request(f"upload {what} as a multipart file part named '{UPLOAD_PART}'")
    return part


def require_upload(request: Request) -> None:
    """415 unless the request is a multipart upload."""
    kind = media_type(request)
    if kind != MULTIPART_MEDIA_TYPE:
        raise unsupported(kind, f"{MULTIPART_MEDIA_TYPE} with the file in a part named 'upload-file'")
