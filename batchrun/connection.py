"""Where a command's jobs live: resolve the endpoint and API key, or start the local JMA.

Resolution follows the ``pinexq`` CLI: an endpoint and API key given by the caller (the
command line's ``--endpoint``/``--api-key`` or ``PINEXQ_ENDPOINT``/``PINEXQ_API_KEY``), then
``[project] pinexq_endpoint`` in a ``pinexq.toml`` next to the manifest or in the current
directory. With none of them (or the endpoint ``local``) the embedded local JMA runs for
the duration of the command, its database in ``.batchrun/`` next to the manifest, so the
jobs of one command are still there for the next.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from batchrun.client import Platform
from batchrun.errors import UsageError
from batchrun.manifest import Manifest, expand
from batchrun.ui import Notify, silent

ENV_ENDPOINT = "PINEXQ_ENDPOINT"
ENV_API_KEY = "PINEXQ_API_KEY"
LOCAL = "local"
PROJECT_FILE = "pinexq.toml"
STATE_DIR = ".batchrun"
LOCAL_DATABASE = "localjma.sqlite3"


@dataclass(frozen=True)
class Target:
    """A resolved connection: an endpoint (None = embedded local JMA) and where it came from."""

    endpoint: str | None
    api_key: str | None = field(repr=False)
    source: str


def project_endpoint(folder: Path) -> tuple[str, Path] | None:
    """``[project] pinexq_endpoint`` from ``folder/pinexq.toml``, if the file sets it."""
    path = folder / PROJECT_FILE
    if not path.is_file():
        return None
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: not valid TOML ({error}); fix or remove the file") from error
    endpoint = document.get("project", {}).get("pinexq_endpoint")
    if endpoint is None:
        return None
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise UsageError(f"{path}: [project] pinexq_endpoint must be a non-empty string (a URL)")
    return endpoint.strip(), path


def resolve_target(manifest: Manifest, endpoint: str | None, api_key: str | None) -> Target:
    """The given endpoint first, then pinexq.toml (manifest folder, then cwd), else embedded."""
    if endpoint:
        if endpoint.strip().lower() == LOCAL:
            return Target(None, None, f"--endpoint {LOCAL}")
        return Target(endpoint.strip(), api_key or None, "--endpoint/PINEXQ_ENDPOINT")
    for folder in dict.fromkeys([Path(manifest.base_dir).resolve(), Path.cwd().resolve()]):
        found = project_endpoint(folder)
        if found is not None:
            url, path = found
            if url.lower() == LOCAL:
                return Target(None, None, str(path))
            return Target(url, api_key or None, str(path))
    return Target(None, None, "no endpoint configured")


def local_database(manifest: Manifest) -> Path:
    """The embedded JMA's database: next to the manifest, shared by every command."""
    return Path(manifest.base_dir) / STATE_DIR / LOCAL_DATABASE


@contextmanager
def connect(
    manifest: Manifest,
    endpoint: str | None,
    api_key: str | None,
    *,
    run_jobs: bool = True,
    patience: float | None = None,
    notify: Notify = silent,
) -> Iterator[Platform]:
    """A ``Platform`` for the command; starts (and stops) the embedded JMA when needed.

    ``run_jobs=False`` starts the embedded JMA without workers: read-only commands must
    not pick up pending jobs only to abandon them mid-run when the command ends.
    ``patience`` is how long a remote platform may stay unreachable mid-command. The
    embedded JMA enforces the manifest's ``execution.timeout`` on its workers; ``notify``
    is told when it starts. The manifest is expanded first: a manifest error (exit 2) is
    raised before anything is sent.
    """
    expand(manifest)
    target = resolve_target(manifest, endpoint, api_key)
    if target.endpoint is not None:
        with Platform(target.endpoint, target.api_key, patience=patience) as platform:
            yield platform
        return
    from batchrun.localjma.child import served_in_child  # a process of its own: no GIL shared with ours

    database = local_database(manifest)
    database.parent.mkdir(parents=True, exist_ok=True)
    steps = [str(path) for path in manifest.local.steps] if manifest.local else []
    workers = (manifest.local.workers if manifest.local else None) if run_jobs else 0
    notify(f"{target.source}: using the embedded local JMA ({database})")
    with (
        served_in_child(database, steps=steps, workers=workers, job_timeout=manifest.execution.timeout) as url,
        Platform(url, None) as platform,
    ):
        yield platform

