"""WorkData for input data slots: the step's slot specification, tag queries, and
content-addressed uploads.

A local file is uploaded at most once per platform: its WorkData carries the tag
``batchrun.sha256=<hash of the content>``, given in the upload request itself (the Upload
action takes tags), so no WorkData without the tag ever exists; before uploading, a
WorkData query by that tag finds a copy already there, e.g. from an apply that was
killed. The file is streamed, never read whole.

These requests go through the connection's own httpx client, query paging and retry
policy (:class:`~batchrun.client.transport.Platform`), in this package.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from pydantic import BaseModel, Field

from batchrun.client.transport import FAILURES, PAGE_SIZE, Platform
from batchrun.client.wire import ENTRY_POINT, Entity, Page, SirenLink, _Item, _Lenient
from batchrun.errors import PlatformError
from batchrun.identity import TAG_SHA256

UPLOAD_ATTEMPTS = 3

UploadProgress = Callable[[int, int], None]
"""Takes (bytes sent, total bytes) while a file is uploaded."""


# -- the step's input slots -----------------------------------------------------------------


@dataclass(frozen=True)
class InputSlotSpec:
    """One input data slot of a step, as the platform describes it."""

    index: int
    name: str
    min_slots: int
    max_slots: int | None  # None: unbounded
    is_collection: bool
    media_type: str | None


class _SlotSpecification(_Lenient):
    name: str | None = None
    media_type: str | None = None
    is_collection: bool | None = None
    min_slots: int | None = None
    max_slots: int | None = None


class _StepSlots(_Lenient):
    input_data_slot_specification: list[_SlotSpecification] | None = None


class _StepEntity(BaseModel):
    properties: _StepSlots = Field(default_factory=_StepSlots)


def input_slots(platform: Platform, step_url: str) -> list[InputSlotSpec]:
    """The input data slots of the step at ``step_url``, in index order."""
    entity = platform.read(
        f"reading the input slots of {step_url}", lambda: _StepEntity.model_validate_json(platform.get(step_url))
    )
    return [
        InputSlotSpec(
            index=index,
            name=spec.name or "",
            min_slots=spec.min_slots if spec.min_slots is not None else 1,
            max_slots=spec.max_slots,
            is_collection=bool(spec.is_collection),
            media_type=spec.media_type,
        )
        for index, spec in enumerate(spec for spec in entity.properties.input_data_slot_specification or ())
    ]


# -- WorkData queries -------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkDataRef:
    """A WorkData found by a query."""

    url: str
    name: str
    media_type: str | None
    tags: tuple[str, ...]


class _DataProperties(_Lenient):
    name: str | None = None
    media_type: str | None = None
    tags: list[str] | None = None


class _DataItem(_Item):
    properties: _DataProperties = Field(default_factory=_DataProperties)


class _DataPage(Page[_DataItem]):
    KIND = "WorkDataQueryResult"
    ITEM = "WorkData"


class _Field(BaseModel):
    name: str | None = None
    type: str | None = None


class _Action(BaseModel):
    name: str
    href: str
    fields: list[_Field] = Field(default_factory=list)


class _Root(BaseModel):
    links: list[SirenLink] = Field(default_factory=list)
    actions: list[_Action] = Field(default_factory=list)


def workdata_query_body(*, page_size: int, tags_by_and: Sequence[str], media_type: str | None = None) -> str:
    """A CreateWorkDataQuery request, oldest first."""
    where: dict[str, Any] = {"TagsByAnd": list(tags_by_and)}
    if media_type is not None:
        where["MediaTypeContains"] = media_type
    return json.dumps({
        "Pagination": {"PageSize": page_size, "PageOffset": 0},
        "SortBy": {"PropertyName": "CreatedAt", "SortType": "Ascending"},
        "Filter": where,
    }, separators=(",", ":"))


class _Counting:
    """A file object that reports how much of it has been read (httpx streams it in chunks)."""

    def __init__(self, stream: BinaryIO, total: int, progress: UploadProgress | None) -> None:
        self._stream, self._total, self._progress, self._sent = stream, total, progress, 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        self._sent += len(chunk)
        if self._progress is not None and chunk:
            self._progress(self._sent, self._total)
        return chunk

    def fileno(self) -> int:  # lets httpx send a Content-Length instead of chunks
        return self._stream.fileno()

    def tell(self) -> int:
        return self._stream.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._stream.seek(offset, whence)


class WorkDataStore:
    """The platform's WorkData, as inputs need it: find by tags, upload by content."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._hrefs: tuple[str, str, str | None] | None = None
        self._lock = threading.Lock()

    def _root(self) -> tuple[str, str, str | None]:
        """(Upload href, CreateWorkDataQuery href, the upload's parameters field name)."""
        with self._lock:
            if self._hrefs is None:
                platform = self.platform
                (root,) = platform.read(
                    "reading the entry point", lambda: Entity.model_validate_json(platform.get(ENTRY_POINT))
                ).link_hrefs("WorkDataRoot")
                entity = platform.read(
                    "reading the WorkData root", lambda: _Root.model_validate_json(platform.get(root))
                )
                actions = {action.name: action for action in entity.actions}
                if "Upload" not in actions or "CreateWorkDataQuery" not in actions:
                    raise PlatformError(
                        f"the platform at {platform.endpoint} offers no WorkData Upload or CreateWorkDataQuery"
                    )
                upload = actions["Upload"]
                field = next((f.name for f in upload.fields[1:] if f.type == "application/json"), None)
                self._hrefs = (upload.href, actions["CreateWorkDataQuery"].href, field)
            return self._hrefs

    def find(self, tags: Sequence[str], media_type: str | None = None) -> list[WorkDataRef]:
        """Every WorkData carrying all ``tags`` (and a media type containing ``media_type``)."""
        _, query_href, _ = self._root()
        body = workdata_query_body(page_size=PAGE_SIZE, tags_by_and=tags, media_type=media_type)
        what = f"looking up WorkData tagged {list(tags)}"
        pages = self.platform.query_pages(_DataPage.model_validate_json, query_href, body, what)
        found: dict[str, WorkDataRef] = {}
        for item in (item for page in pages for item in page.items):
            if item.self_href is not None:
                data = item.properties
                found[item.self_href] = WorkDataRef(
                    item.self_href, data.name or "", data.media_type, tuple(data.tags or ())
                )
        return list(found.values())

    def exists(self, url: str) -> bool:
        """True when the WorkData at ``url`` is there."""
        platform = self.platform
        return platform.read(f"looking up WorkData {url}", lambda: platform.gone_is_fine(lambda: platform.get(url)))\
            is not None

    def upload(
        self, path: Path, sha256: str, *, media_type: str = "application/octet-stream",
        progress: UploadProgress | None = None,
    ) -> tuple[str, bool]:
        """The URL of the WorkData holding ``path``'s content, uploading it only when no
        WorkData carries its hash tag; True when it was uploaded now."""
        tag = f"{TAG_SHA256}={sha256}"
        existing = self.find([tag])
        if existing:
            return existing[0].url, False
        upload_href, _, field = self._root()
        platform = self.platform
        total = path.stat().st_size

        def send() -> str:
            with path.open("rb") as stream:
                content = cast(BinaryIO, _Counting(stream, total, progress))
                files = {"upload-file": (path.name, content, media_type)}
                data = {field: json.dumps({"Tags": [tag]})} if field else None
                response = platform._client.post(upload_href, files=files, data=data)
            return platform._created(response)

        if field is None:
            raise PlatformError(
                f"the platform at {platform.endpoint} takes no tags with an upload; batchrun needs them "
                "to upload each file once"
            )
        # Never sent blindly twice: a failure that may have reached the server is looked up
        # by the hash tag before the file is sent again.
        pause = 0.5
        for attempt in range(UPLOAD_ATTEMPTS):
            try:
                return send(), True
            except FAILURES as error:
                again = self.find([tag])
                if again:
                    return again[0].url, True
                if attempt == UPLOAD_ATTEMPTS - 1 or not platform.failure(error).transient:
                    raise platform._error(f"uploading {path}", error) from error
                time.sleep(pause)
                pause *= 2
        raise AssertionError("unreachable")
