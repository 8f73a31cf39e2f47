"""Folders for a batch's jobs: the folder at a path, made when missing, and a job filed in it.

Both go through the client's HCO layer: they are rare (one look-up per folder and apply,
one move per new job), and the platform's folder resources are not on the hot path.
Folder paths are canonical, as the platform writes them: ``/sweeps/b1/``.
"""

from __future__ import annotations

from pinexq.client.core import ApiException

from batchrun.client.transport import Platform
from batchrun.errors import PlatformError

FOLDER_PAGE = 100  # a folder's siblings sharing its path as a prefix: few


def ensure_folder(platform: Platform, path: str) -> str:
    """The URL of the folder at ``path``, each missing folder on the way made from the top down."""
    url: str | None = None
    walked = "/"
    for name in [name for name in path.split("/") if name]:
        walked += f"{name}/"
        url = platform.read(f"making folder {walked}", lambda: _found_or_made(platform, walked, name, url))  # noqa: B023
    if url is None:
        raise PlatformError(f"folder {path!r} names no folder; give a path such as /sweeps/batch-1")
    return url


def _found_or_made(platform: Platform, path: str, name: str, parent: str | None) -> str:
    from pinexq.client.job_management.model import CreateFolderParameters

    found = _folder_at(platform, path)
    if found is not None:
        return found
    try:
        created = platform.folder_root().create_folder_action.execute(
            CreateFolderParameters(Name=name, ParentFolder=parent)
        )
    except ApiException as error:
        if platform.failure(error).status != 409:
            raise
        found = _folder_at(platform, path)  # another apply made it meanwhile
        if found is None:
            raise
        return found
    return str(created.get_url())


def _folder_at(platform: Platform, path: str) -> str | None:
    from pinexq.client.job_management.model import FolderQueryFilterParameter, FolderQueryParameters, Pagination

    query = FolderQueryParameters(
        Filter=FolderQueryFilterParameter(PathPrefix=path), Pagination=Pagination(PageSize=FOLDER_PAGE, PageOffset=0)
    )
    result = platform.folder_root().query_action.execute(query)
    return next((str(f.self_link.get_url()) for f in result.iter_flat() if f.path == path), None)


def file_job(platform: Platform, url: str, folder_url: str) -> None:
    """Move the job at ``url`` into the folder at ``folder_url`` (safe to repeat)."""
    from pinexq.client.job_management.model import MoveToFolderParameters

    def move() -> None:
        job = platform.job(url)
        if job is None:
            raise PlatformError(f"job {url} no longer exists")
        job.move_to_folder_action.execute(MoveToFolderParameters(Folder=folder_url))

    platform.read(f"filing job {url} in its folder", move)
