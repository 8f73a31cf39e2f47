"""Downloading a batch's output WorkData: ``batchrun fetch`` and ``report.download``.

Files go to ``<dest>/<job name>/<slot>/<file name>`` (``dest`` is ``<report.dir>/<batch>``
by default). Every name taken from the platform (job, slot, WorkData) is made a safe single
path component (:func:`safe_name`), so nothing lands outside ``dest``.

Downloads stream to a hidden temp file in the target folder and are renamed into place
once complete, so a partial file is never left under a final name; an interrupted or
failed download removes its temp file.

Skipping (idempotence): WorkData carries its size but no content hash, so batchrun keeps
its own: next to each file it writes a hidden record ``.<file>.fetched.json`` with the
WorkData's URL, its size and the SHA-256 of the bytes written. A file is skipped when the
record names the same WorkData (WorkData content never changes on the platform) and the
file on disk has the WorkData's size and the recorded SHA-256. Anything else (no record, a
truncated or altered file, another WorkData under that name) is downloaded again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batchrun.client import Platform
from batchrun.errors import BatchrunError, PlatformError
from batchrun.manifest import Manifest
from batchrun.report import Report, ReportOutput
from batchrun.report.formats import report_directory

THREADS = 4
HASH_CHUNK = 1 << 20
NAME_BYTES = 180  # a name's UTF-8 length limit: file systems allow 255, the suffixes need room
SAFE_PUNCTUATION = set("-_.+=@,()[]{}~#%&' ")
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
RECORD_SUFFIX = ".fetched.json"


class Cancelled(BatchrunError):
    """The fetch was stopped (Ctrl-C or an error elsewhere) before this file completed."""


def safe_name(text: str, fallback: str) -> str:
    """``text`` as one safe path component: no separators, control characters or leading
    dots (hidden names are batchrun's own), no reserved device names, bounded length;
    ``fallback`` when nothing is left."""
    name = "".join(
        ch if (ch.isalnum() or ch in SAFE_PUNCTUATION) and ch.isprintable() else "_"
        for ch in unicodedata.normalize("NFC", text)
    )
    name = name.strip(" ").lstrip(".").rstrip(". ")
    while len(name.encode("utf-8")) > NAME_BYTES:
        stem, dot, suffix = name.rpartition(".")
        name = stem[:-1] + dot + suffix if dot and len(suffix) < 16 and stem else name[:-1]
    if name.split(".")[0].upper() in WINDOWS_RESERVED:
        name = "_" + name
    return name or fallback


@dataclass(frozen=True)
class Download:
    """One output WorkData and where it goes."""

    job: str  # the job's name, for messages
    output: ReportOutput
    path: Path


@dataclass
class FetchResult:
    downloaded: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one message per file not fetched
    bytes: int = 0  # downloaded


def destination(manifest: Manifest) -> Path:
    """Where a batch's outputs go by default: ``<report.dir>/<batch>``."""
    return report_directory(manifest) / safe_name(manifest.batch, "batch")


def plan_downloads(report: Report, dest: Path, slots: Collection[str] | None = None) -> list[Download]:
    """Every output of the report's jobs (of ``slots`` only, when given) with its target path.

    Names that collide once made safe are told apart: jobs by their key, files by the
    WorkData id, so two outputs never share a path.
    """
    wanted = [job for job in report.jobs if any(slots is None or o.slot in slots for o in job.outputs)]
    folders = [safe_name(job.name, f"job-{job.index}") for job in wanted]
    crowded = {folder for folder in folders if folders.count(folder) > 1}
    downloads = []
    for job, folder in zip(wanted, folders, strict=True):
        if folder in crowded:
            folder = f"{folder}-{job.key[:12]}"
        outputs = [output for output in job.outputs if slots is None or output.slot in slots]
        names = [(safe_name(o.slot, "slot"), safe_name(o.name, _workdata_id(o))) for o in outputs]
        for output, (slot, name) in zip(outputs, names, strict=True):
            if names.count((slot, name)) > 1:
                stem, dot, suffix = name.rpartition(".")
                name = f"{stem}-{_workdata_id(output)}{dot}{suffix}" if stem else f"{name}-{_workdata_id(output)}"
            path = dest / folder / slot / name
            if not path.resolve().is_relative_to(dest.resolve()):  # safe_name makes this impossible
                raise BatchrunError(f"refusing to write {output.name!r} outside {dest}")
            downloads.append(Download(job.name, output, path))
    return downloads


def _workdata_id(output: ReportOutput) -> str:
    return safe_name(output.url.rstrip("/").rsplit("/", 1)[-1], "workdata")


def fetch(
    platform: Platform,
    downloads: Sequence[Download],
    *,
    threads: int = THREADS,
    on_bytes: Callable[[int], None] | None = None,
    on_done: Callable[[Download, bool], None] | None = None,
) -> FetchResult:
    """Download what is missing, ``threads`` at a time; ``on_bytes`` gets each chunk's
    length (skipped files count whole; a try that fails takes its bytes back), ``on_done``
    each file and whether it was skipped.

    A file that fails is reported in the result and the others still come; an exception
    (Ctrl-C) stops every download, and no temp file stays behind.
    """
    result = FetchResult()
    cancel = threading.Event()
    lock = threading.Lock()

    def one(download: Download) -> None:
        if cancel.is_set():
            raise Cancelled("fetch stopped")
        try:
            fetched = _fetch_one(platform, download, cancel, on_bytes)
        except PlatformError as error:
            with lock:
                result.failed.append(f"{download.job}/{download.output.slot}/{download.output.name!r}: {error}")
            return
        except OSError as error:
            with lock:
                result.failed.append(
                    f"{download.job}/{download.output.slot}/{download.output.name!r}: cannot write "
                    f"{download.path}: {error.strerror or error}"
                )
            return
        with lock:
            if fetched is None:
                result.skipped.append(download.path)
            else:
                result.downloaded.append(download.path)
                result.bytes += fetched
        if on_done is not None:
            on_done(download, fetched is None)

    if not downloads:
        return result
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(downloads)))) as pool:
        futures = [pool.submit(one, download) for download in downloads]
        try:
            for future in futures:
                future.result()
        except BaseException:
            cancel.set()
            for future in futures:
                future.cancel()
            raise
    return result


def _fetch_one(
    platform: Platform, download: Download, cancel: threading.Event, on_bytes: Callable[[int], None] | None
) -> int | None:
    """Download one file unless it is there already; the bytes written, None when skipped."""
    output, path = download.output, download.path
    if _is_current(path, output):
        if on_bytes is not None and output.size:
            on_bytes(output.size)
        return None
    if output.download_url is None:
        raise PlatformError(f"WorkData {output.url} offers no Download link")
    path.parent.mkdir(parents=True, exist_ok=True)
    record = _record_path(path)
    record.unlink(missing_ok=True)  # the old record no longer describes what will be there
    href = output.download_url

    def attempt() -> tuple[str, int]:
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        digest, written = hashlib.sha256(), 0
        try:
            with os.fdopen(handle, "wb") as stream, platform.download(href) as chunks:
                for chunk in chunks:
                    if cancel.is_set():
                        raise Cancelled("fetch stopped")
                    stream.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
                    if on_bytes is not None:
                        on_bytes(len(chunk))
            if output.size is not None and written != output.size:
                raise PlatformError(f"got {written} bytes of {href}, the WorkData has {output.size}")
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            if on_bytes is not None and written:
                on_bytes(-written)  # the next try starts the file over
            raise
        return digest.hexdigest(), written

    sha256, written = platform.read(f"downloading {output.name!r} of job {download.job!r}", attempt)
    _write_record(record, {"url": output.url, "size": written, "sha256": sha256})
    return written


def _record_path(path: Path) -> Path:
    return path.with_name(f".{path.name}{RECORD_SUFFIX}")


def _write_record(path: Path, record: dict[str, Any]) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(record, stream)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _is_current(path: Path, output: ReportOutput) -> bool:
    """The file holds this WorkData's content: see the module docstring for the rule."""
    try:
        size = path.stat().st_size
        record = json.loads(_record_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(record, dict) or record.get("url") != output.url or record.get("size") != size:
        return False
    if output.size is not None and size != output.size:
        return False
    return record.get("sha256") == file_sha256(path)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
