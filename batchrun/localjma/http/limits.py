"""Request size limits: an oversized body is refused with 413 before it fills memory or disk.

Action bodies are small JSON documents; uploads (multipart) may be larger. A declared
``Content-Length`` over the limit is refused before anything is read; a body sent without
one (chunked) is counted as it arrives and refused the moment it passes the limit.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from batchrun.localjma.http.problems import Problem, problem_response

MAX_JSON_BYTES = 8 * 1024 * 1024
MAX_UPLOAD_BYTES = 256 * 1024 * 1024


def too_large(limit: int) -> Problem:
    return Problem(
        413, "Request too large", f"the request body is larger than the {limit:,} bytes the local JMA accepts"
    )


class BodyLimit:
    """Answers 413 to request bodies over the limit of their kind (JSON or multipart upload)."""

    def __init__(self, app: ASGIApp, json_bytes: int = MAX_JSON_BYTES, upload_bytes: int = MAX_UPLOAD_BYTES) -> None:
        self.app = app
        self.json_bytes = json_bytes
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        upload = headers.get(b"content-type", b"").lower().startswith(b"multipart/")
        limit = self.upload_bytes if upload else self.json_bytes
        declared = headers.get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > limit:
            await problem_response(too_large(limit))(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large(limit)  # inside the route: answered as a problem like any other
            return message

        await self.app(scope, counted, send)
