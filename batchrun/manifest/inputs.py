"""Input data slots per point: the manifest's ``inputs`` rendered, checked and identified.

A local file is named by its content (sha256), so editing a file reruns the points that
use it and renaming one reruns nothing; an existing WorkData is named by its id; a tag
query stays a query here and is resolved into WorkData when the batch is planned.
Nothing here talks to a server.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from batchrun.identity import InputSource, SlotInput
from batchrun.manifest.errors import FieldPath
from batchrun.manifest.models import InputBinding, Manifest
from batchrun.manifest.templating import TemplateFailure, compile_template

CHUNK = 1 << 20

_hashes: dict[tuple[str, int, int, int], str] = {}
_hashes_lock = threading.Lock()


def file_sha256(path: Path) -> str:
    """The sha256 of a file's content, read in chunks; remembered per (path, size, mtime, inode)."""
    status = path.stat()
    token = (str(path), status.st_size, status.st_mtime_ns, status.st_ino)
    with _hashes_lock:
        known = _hashes.get(token)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    value = digest.hexdigest()
    with _hashes_lock:
        _hashes[token] = value
    return value


class InputError(ValueError):
    """A binding that does not work for one point: where in the manifest, and why."""

    def __init__(self, path: FieldPath, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


Render = Callable[[dict[str, Any]], str]


class InputRenderer:
    """Renders the manifest's ``inputs`` for each point into :class:`SlotInput` values."""

    def __init__(self, manifest: Manifest) -> None:
        self.base_dir = manifest.base_dir.resolve()
        self.slots: list[tuple[str, InputBinding, list[tuple[FieldPath, Render]]]] = []
        for slot, binding in manifest.inputs.items():
            kind = binding.kind
            value = getattr(binding, kind)
            if isinstance(value, list):
                paths: list[tuple[FieldPath, str]] = [(("inputs", slot, kind, n), v) for n, v in enumerate(value)]
            else:
                paths = [(("inputs", slot, kind), value)]
            self.slots.append((slot, binding, [(path, compile_template(source)) for path, source in paths]))

    def __call__(self, variables: dict[str, Any]) -> tuple[SlotInput, ...]:
        return tuple(self._slot(slot, binding, renders, variables) for slot, binding, renders in self.slots)

    def _slot(
        self, slot: str, binding: InputBinding, renders: list[tuple[FieldPath, Render]], variables: dict[str, Any]
    ) -> SlotInput:
        rendered = []
        for path, render in renders:
            try:
                text = render(variables).strip()
            except TemplateFailure as error:
                raise InputError(path, str(error)) from None
            if not text:
                raise InputError(path, "renders to an empty value; check the template")
            rendered.append((path, text))
        kind = binding.kind
        if kind in ("file", "files"):
            return SlotInput(slot, tuple(self._file(path, text) for path, text in rendered))
        if kind == "workdata":
            return SlotInput(slot, tuple(InputSource("workdata", workdata=text) for _, text in rendered))
        tags = tuple(sorted(text for _, text in rendered))
        return SlotInput(slot, (InputSource("tags", tags=tags, media_type=binding.media_type),))

    def _file(self, path: FieldPath, text: str) -> InputSource:
        file = (self.base_dir / text).resolve()
        if os.path.commonpath([file, self.base_dir]) != str(self.base_dir):
            raise InputError(path, f"{text!r} is outside the manifest's folder ({self.base_dir}); "
                             "keep input files in it or below it")
        if not file.is_file():
            problem = "is a folder, not a file" if file.is_dir() else "file not found"
            raise InputError(path, f"{problem}: {file}; paths are relative to the manifest's folder")
        try:
            digest = file_sha256(file)
        except OSError as error:
            raise InputError(path, f"cannot read {file}: {error.strerror}") from None
        return InputSource("file", path=str(file), sha256=digest)
