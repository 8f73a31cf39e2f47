"""Folders: a tree of named folders in which jobs and WorkData are filed.

A folder is known by its id (its URL) and by its canonical path, ``/`` then each name
and a trailing slash (``/sweeps/b1/``); jobs and WorkData store both of the folder they
are in (:class:`~batchrun.localjma.store.rows.Filing`; ``/`` at the root): the id for
their link to it, the path so that a query by folder is one indexed comparison. Renaming
or moving a folder rewrites the paths below it in one transaction. Only an empty folder
can be deleted, as on the platform.
"""

from __future__ import annotations

import uuid

from batchrun.localjma.domain.errors import Conflict, Invalid, NotFound
from batchrun.localjma.domain.values import resource_id
from batchrun.localjma.store.database import Store
from batchrun.localjma.store.rows import AT_ROOT, Filing, FolderRow, utc_now

ROOT = "/"
MAX_FOLDER_NAME_LENGTH = 200


def checked_folder_name(name: str, field: str) -> str:
    """A folder name is one path segment: not empty, no ``/``, not ``.`` or ``..``."""
    value = name.strip()
    if not value or "/" in value or value in (".", ".."):
        raise Invalid(f"{field}: a folder name is one path segment (not empty, no '/', not '.' or '..'), got {name!r}")
    if len(value) > MAX_FOLDER_NAME_LENGTH:
        raise Invalid(f"{field}: folder names may have at most {MAX_FOLDER_NAME_LENGTH} characters")
    return value


def canonical_path(path: str) -> str:
    """``/a/b`` or ``a/b/`` as stored: a leading and a trailing slash (``/`` is the root)."""
    names = [name for name in path.split("/") if name]
    return "/" + "".join(f"{name}/" for name in names)


class FolderService:
    """The folder operations, and the folder an action's ``Folder`` URL names."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, folder_id: str) -> FolderRow:
        folder = self.store.folder(folder_id)
        if folder is None:
            raise NotFound(f"folder {folder_id}")
        return folder

    def named(self, url: str | None, field: str) -> FolderRow | None:
        """The folder at ``url`` (None: the root); a URL of no folder is the caller's mistake (400)."""
        if url is None:
            return None
        folder = self.store.folder(resource_id(url, "Folder", field))
        if folder is None:
            raise Invalid(f"{field}: no folder at {url}; create it first (FolderRoot CreateFolder)")
        return folder

    def filing(self, url: str | None, field: str) -> Filing:
        """Filed in the folder at ``url``, or at the root for None."""
        folder = self.named(url, field)
        return AT_ROOT if folder is None else Filing(folder.id, folder.path)

    def create(self, name: str, parent_url: str | None) -> FolderRow:
        parent = self.named(parent_url, "ParentFolder")
        name = checked_folder_name(name, "Name")
        path = self._free_path(parent, name)
        row = FolderRow(0, str(uuid.uuid4()), name, path, None if parent is None else parent.id, utc_now())
        return self.store.insert_folder(row)

    def rename(self, folder: FolderRow, new_name: str) -> FolderRow:
        name = checked_folder_name(new_name, "NewName")
        if name == folder.name:
            return folder
        parent = None if folder.parent_id is None else self.get(folder.parent_id)
        return self.store.refile_folder(folder, name, folder.parent_id, self._free_path(parent, name))

    def move(self, folder: FolderRow, new_parent_url: str | None) -> FolderRow:
        parent = self.named(new_parent_url, "NewParentFolder")
        if parent is not None and parent.path.startswith(folder.path):
            raise Conflict(f"NewParentFolder: {parent.path} is inside {folder.path}; a folder cannot move into itself")
        if (None if parent is None else parent.id) == folder.parent_id:
            return folder
        path = self._free_path(parent, folder.name)
        return self.store.refile_folder(folder, folder.name, None if parent is None else parent.id, path)

    def delete(self, folder: FolderRow) -> None:
        if not self.store.folder_is_empty(folder):
            raise Conflict(f"folder {folder.path} is not empty: move or delete its folders, jobs and WorkData first")
        self.store.delete_folder(folder)

    def _free_path(self, parent: FolderRow | None, name: str) -> str:
        path = f"{ROOT if parent is None else parent.path}{name}/"
        if self.store.folder_at(path) is not None:
            raise Conflict(f"a folder {path} exists already; choose another name")
        return path
