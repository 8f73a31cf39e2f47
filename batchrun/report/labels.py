"""Output WorkData (``slot/name (size)``) and a failed point's last log lines as people read
them, in every format."""

from __future__ import annotations

from typing import Any

from batchrun.report.model import ReportJob

LOG_EXCERPT_LINES = 5  # of a failed point's log tail, in Markdown and HTML


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


def log_excerpt(job: ReportJob, lines: int = LOG_EXCERPT_LINES) -> list[str]:
    """The last lines of a failed point's log, ``LEVEL message`` each, on one line of printable text."""
    return [
        "".join(ch if ch.isprintable() else " " for ch in f"{line.level} {line.message}")
        for line in job.log_tail[-lines:]
    ]
