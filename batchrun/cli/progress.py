"""Live progress of an apply on stderr: counts per state, rate and ETA.

``apply`` hands :func:`shown` to the executor, which feeds it the counts as they change.
On a terminal a rich live line is redrawn in place; elsewhere (CI logs, pipes) a plain
line is printed every ``interval`` seconds and once at the end, so logs stay short.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.text import Text

# Display order of the states an apply reports; others follow alphabetically.
STATE_ORDER = (
    "queued",
    "submitting",
    "pending",
    "running",
    "completed",
    "unchanged",
    "failed",
    "timed out",
    "skipped",
)


def summary_line(
    counts: Mapping[str, int], *, done: int, total: int, elapsed: float, finished_here: int
) -> str:
    """One line: ``done/total`` then the non-zero counts, the rate and an ETA."""
    order = {name: i for i, name in enumerate(STATE_ORDER)}
    parts = [
        f"{counts[name]} {name}"
        for name in sorted(counts, key=lambda n: (order.get(n, len(order)), n))
        if counts[name]
    ]
    line = f"{done}/{total} done"
    if parts:
        line += " | " + ", ".join(parts)
    if finished_here and elapsed > 0:
        rate = finished_here / elapsed
        line += f" | {rate:.1f} jobs/s"
        if done < total:
            line += f" | ETA {_duration((total - done) / rate)}"
    return line


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    """Shows :func:`summary_line` on stderr while an apply runs (unless ``hidden``)."""

    def __init__(
        self, total: int, *, stream: TextIO | None = None, interval: float = 10.0, hidden: bool = False
    ) -> None:
        self._total = total
        self._hidden = hidden
        self._stream = stream or sys.stderr
        self._interval = interval
        self._started = time.monotonic()
        self._last_print = self._started
        self._last_line = ""
        self._console = Console(file=self._stream)
        self._live: Live | None = None

    def update(self, counts: Mapping[str, int], *, done: int, finished_here: int) -> None:
        """Record the latest counts; redraws (terminal) or prints when due (plain)."""
        now = time.monotonic()
        line = summary_line(
            counts,
            done=done,
            total=self._total,
            elapsed=now - self._started,
            finished_here=finished_here,
        )
        self._last_line = line
        if self._live is not None:
            self._live.update(Text(line))
        elif not self._hidden and now - self._last_print >= self._interval:
            self._emit(line)
            self._last_print = now

    def _emit(self, line: str) -> None:
        print(f"batchrun: {line}", file=self._stream, flush=True)

    def start(self) -> None:
        """Begin the live line (terminals only)."""
        if self._console.is_terminal and not self._hidden:
            self._live = Live(
                Text(""), console=self._console, refresh_per_second=4, transient=False
            )
            self._live.start()

    def stop(self) -> None:
        """Leave the last line on screen (terminal) or print it (plain)."""
        if self._live is not None:
            self._live.stop()
        elif self._last_line and not self._hidden:
            self._emit(self._last_line)


@contextmanager
def shown(
    total: int, *, stream: TextIO | None = None, interval: float = 10.0, hidden: bool = False
) -> Iterator[Progress]:
    """A :class:`Progress` for the duration of a ``with`` block."""
    progress = Progress(total, stream=stream, interval=interval, hidden=hidden)
    progress.start()
    try:
        yield progress
    finally:
        progress.stop()
