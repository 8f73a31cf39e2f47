"""Values clients send, checked: tags, JSON text and the URLs that name resources.

Resources name each other by URL (``<endpoint>/api/<Kind>/<id>``). URLs are parsed, never
compared as text: pydantic on the client side normalises host case, default ports and
trailing slashes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from batchrun.localjma.domain.errors import Invalid
from batchrun.nesting import deeper_than

MAX_JSON_DEPTH = 100


def tag_list(tags: Sequence[str] | None) -> tuple[str, ...]:
    """Tags as the platform takes them: non-empty ``key`` or ``key=value`` strings, no duplicates."""
    cleaned = tuple(dict.fromkeys(tags or ()))
    if any(not tag.strip() for tag in cleaned):
        raise Invalid("Tags: tags must be non-empty strings like 'key' or 'key=value'")
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


def resource_id(url: str, kind: str, field: str) -> str:
    """The id in ``{base}/api/{kind}/{id}``; scheme, host and trailing slash do not matter."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) < 2 or parts[-2] != kind:
        raise Invalid(f"{field} must be a {kind} URL like '<endpoint>/api/{kind}/<id>', got {url!r}")
    return parts[-1]
