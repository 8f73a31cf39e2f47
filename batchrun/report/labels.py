"""Output WorkData as people read them, in every format: ``slot/name (size)``."""

from __future__ import annotations

from typing import Any


def output_label(data: dict[str, Any]) -> str:
    """An output as people read it, on one line without control characters: ``slot/name (size)``."""
    size = f" ({human_size(data['size'])})" if data.get("size") is not None else ""
    text = f"{data['slot']}/{data['name']}{size}"
    return "".join(ch if ch.isprintable() else " " for ch in text)


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
