"""Reading request bodies: the content type must say what the body is.

The client sends ``Content-Type: application/json`` with every JSON action, parameterless
ones included (protocol §1.5), and ``multipart/form-data`` with uploads. A body of any
other type is refused with 415 rather than guessed at, so a form post or a text body can
never be mistaken for an action.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from batchrun.localjma.payloads import parse_json
from batchrun.localjma.problems import Problem, bad_request

JSON_MEDIA_TYPE = "application/json"
MULTIPART_MEDIA_TYPE = "multipart/form-data"
UPLOAD_PART = "upload-file"


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
