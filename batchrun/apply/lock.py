"""One apply per batch, run and platform at a time on this machine.

Two applies of the same batch started together would both plan ``create`` for every
point and submit everything twice. An apply therefore holds an exclusive lock (a flock
on a file in ``.batchrun/locks/`` next to the manifest) for its whole run; a second one
says so on stderr, waits, and then plans afresh, finding the work done. The kernel drops
the lock when its holder dies, so a killed apply never blocks the next one.

Applies on *different machines* share no lock: they can still create duplicates, which
``plan`` then lists as orphaned duplicates and ``apply --prune`` deletes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from batchrun.connection import STATE_DIR, Target, local_database
from batchrun.filelock import FileLock, describe_holder
from batchrun.manifest import Manifest

LOCK_DIR = "locks"


def lock_path(manifest: Manifest, target: Target, run: str) -> Path:
    """The lock file of (platform, batch, run): the embedded JMA is named by its database."""
    platform = target.endpoint.rstrip("/") if target.endpoint else str(local_database(manifest).resolve())
    digest = hashlib.sha256(f"{platform}\n{manifest.batch}\n{run}".encode()).hexdigest()[:24]
    return Path(manifest.base_dir) / STATE_DIR / LOCK_DIR / f"apply-{digest}.lock"


@contextmanager
def exclusive_apply(
    manifest: Manifest, target: Target, run: str, notify: Callable[[str], None]
) -> Iterator[None]:
    """Hold the apply lock of this batch and run, waiting (with a message) while another has it."""
    lock = FileLock(lock_path(manifest, target, run))

    def waiting(holder: int | None) -> None:
        notify(
            f"another batchrun apply of batch {manifest.batch} is running ({describe_holder(holder)}); "
            "waiting…"
        )

    try:
        lock.acquire(on_wait=waiting)
    except OSError as error:
        notify(
            f"cannot lock {lock.path} ({error.strerror or error}); applies of this batch started "
            "at the same time are not coordinated"
        )
        yield
        return
    try:
        yield
    finally:
        lock.release()
