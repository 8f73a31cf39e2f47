"""WorkData: uploads, the WorkData actions, and deletion under the platform's lineage rules.

Content lives on disk, one file per WorkData named after its id in the server's data
directory (never after a client-supplied name), written to a temporary name first so a
half-written upload is never visible. SQLite holds only the metadata.

Lineage rules, shown as absent actions and enforced with a :class:`Conflict` naming the
reason on a forced call: WorkData cannot be deleted while a job has it in an input slot, or while its
deletion is disallowed. Outputs are deletable exactly when their job allows output data
deletion (``AllowOutputDataDeletion``), so a job's results are not lost by accident.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from batchrun.localjma.domain.actions import for_action
from batchrun.localjma.domain.errors import Invalid, NotFound
from batchrun.localjma.domain.values import tag_list
from batchrun.localjma.store.database import Store
from batchrun.localjma.store.rows import AT_ROOT, Filing, StoredEvent, WorkDataRow, utc_now

#: The actions of a WorkData, in the order its entity lists them.
WORKDATA_ACTIONS = (
    "EditTags",
    "Rename",
    "EditComment",
    "Hide",
    "UnHide",
    "MarkAsSecret",
    "AllowDeletion",
    "DisallowDeletion",
    "MoveToFolder",
    "Delete",
)

DEFAULT_MEDIA_TYPE = "application/octet-stream"
MAX_NAME_LENGTH = 255
_MEDIA_TYPE = re.compile(r"^[\w!#$&^.+-]+/[\w!#$&^.+-]+(;[ -~]*)?$")


def content_path(data_dir: Path | str, workdata_id: str) -> Path:
    """Where a WorkData's bytes live; ``workdata_id`` must be one the server generated (a UUID)."""
    return Path(data_dir) / str(uuid.UUID(workdata_id))


def checked_media_type(media_type: str | None) -> str:
    """A media type fit for a ``Content-Type`` header; Invalid otherwise."""
    value = (media_type or DEFAULT_MEDIA_TYPE).strip()
    if len(value) > MAX_NAME_LENGTH or not _MEDIA_TYPE.match(value):
        raise Invalid(f"media type {value[:80]!r} is not a valid media type like 'text/csv'")
    return value


def checked_name(name: str | None, fallback: str) -> str:
    value = (name or "").strip() or fallback
    if len(value) > MAX_NAME_LENGTH:
        raise Invalid(f"WorkData names may have at most {MAX_NAME_LENGTH} characters")
    return value


def workdata_event(event_type: str, data: WorkDataRow) -> StoredEvent:
    return StoredEvent(event_type, data.id, None, time.time(), detail=data.name, resource_type="WorkData")


def workdata_blocker(data: WorkDataRow, action: str) -> str | None:
    """Why ``action`` is not available on ``data`` right now, or None when it is."""
    if action in ("Hide", "UnHide"):
        hidden = action == "Hide"
        return f"the WorkData is already {'hidden' if hidden else 'visible'}" if data.hidden == hidden else None
    if action == "MarkAsSecret":
        return "the WorkData is already secret" if data.secret else None
    if action in ("AllowDeletion", "DisallowDeletion"):
        allowed = action == "AllowDeletion"
        return f"deletion is already {'allowed' if allowed else 'disallowed'}" if data.deletable == allowed else None
    if action == "Delete":
        if data.used:
            return "a job uses it as input; delete that job (or clear its input slot) first"
        if not data.deletable:
            how = "AllowOutputDataDeletion on the job that produced it" if data.producer_job_id else "AllowDeletion"
            return f"its deletion is disallowed; {how} allows it"
    return None


def available_workdata_actions(data: WorkDataRow) -> list[str]:
    return [action for action in WORKDATA_ACTIONS if workdata_blocker(data, action) is None]


class WorkDataService:
    """The operations behind the WorkDataRoot upload and the WorkData actions."""

    def __init__(self, store: Store, data_dir: Path) -> None:
        self.store = store
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)

    def get(self, workdata_id: str) -> WorkDataRow:
        data = self.store.workdata(workdata_id)
        if data is None:
            raise NotFound(f"WorkData {workdata_id}")
        return data

    def upload(
        self,
        name: str | None,
        media_type: str | None,
        source: IO[bytes],
        tags: Sequence[str] | None = None,
        secret: bool = False,
        filing: Filing = AT_ROOT,
    ) -> WorkDataRow:
        """Store an uploaded file, filed as ``filing`` says (blocking: run it off the event loop)."""
        data = WorkDataRow(
            0, str(uuid.uuid4()), checked_name(name, "upload"), checked_media_type(media_type), 0, "ClientUpload",
            tags=tag_list(tags), secret=secret, created_at=utc_now(),
            folder_id=filing.folder_id, folder_path=filing.folder_path,
        )
        target = content_path(self.data_dir, data.id)
        partial = target.with_name(target.name + ".part")
        try:
            with open(partial, "xb") as sink:
                shutil.copyfileobj(source, sink, 1024 * 1024)
            size = partial.stat().st_size
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        with self.store.transaction():
            stored = self.store.insert_workdata(replace(data, size=size))
            self.store.log_events([workdata_event("Created", stored)])
        return stored

    def remove_orphans(self) -> int:
        """Delete content files that no WorkData owns (an upload or an output cut short by a
        crash); run only while nothing writes, i.e. at start. Returns how many."""
        known = self.store.workdata_ids()
        orphans = [path for path in self.data_dir.iterdir() if path.is_file() and path.name not in known]
        for path in orphans:
            path.unlink(missing_ok=True)
        return len(orphans)

    def for_action(self, workdata_id: str, action: str) -> WorkDataRow:
        """The WorkData, once ``action`` is one WorkData have and this one allows it now."""
        return for_action(WORKDATA_ACTIONS, workdata_blocker, lambda: self.get(workdata_id), action, "WorkData")

    def edit_tags(self, data: WorkDataRow, tags: Sequence[str] | None) -> None:
        self._change(data, tags=tag_list(tags))

    def rename(self, data: WorkDataRow, name: str) -> None:
        self._change(data, name=checked_name(name, data.name))

    def edit_comment(self, data: WorkDataRow, comment: str | None) -> None:
        self._change(data, comments=comment)

    def set_hidden(self, data: WorkDataRow, hidden: bool) -> None:
        self._change(data, hidden=hidden)

    def mark_secret(self, data: WorkDataRow) -> None:
        self._change(data, secret=True)

    def set_deletable(self, data: WorkDataRow, deletable: bool) -> None:
        self._change(data, deletable=deletable)

    def move_to_folder(self, data: WorkDataRow, filing: Filing) -> None:
        self._change(data, folder_id=filing.folder_id, folder_path=filing.folder_path)

    def _change(self, data: WorkDataRow, **changes: Any) -> None:
        self.store.update_workdata(data, **changes)

    def delete(self, data: WorkDataRow) -> None:
        """Deleting is permanent: the row and the file go; the event log keeps a line."""
        with self.store.transaction():
            self.store.delete_workdata(data)
            self.store.log_events([workdata_event("Deleted", data)])
        content_path(self.data_dir, data.id).unlink(missing_ok=True)
