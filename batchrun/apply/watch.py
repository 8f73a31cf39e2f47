"""The watch loop: one event stream and paged tag queries, no thread or request per job.

Events only say *that* something changed; the loop then re-reads the batch's query pages
(at most every ``refresh_interval``), which carry every state and result, from where the
:class:`ReadWindow` says jobs can still change. Once everything is submitted and events
have named every job still awaited, it re-reads at once: that read likely finds the batch
done, and waiting out the interval would only delay the report. Without events it still
re-reads every ``FALLBACK_INTERVAL`` seconds, so a lost event only costs time.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import datetime

from batchrun.apply.board import Board
from batchrun.apply.submit import Submitter, work
from batchrun.apply.window import ReadWindow
from batchrun.client import PAGE_SIZE, JobEventStream, Platform, RemoteJob
from batchrun.ui import ProgressSink

MIN_INTERVAL = 0.1  # seconds between re-reads, plus ROW_COST per job the next one should return
ROW_COST = 0.0005  # ...so re-reading keeps to a small share of the server's (and our) time
MAX_INTERVAL = 5.0  # ...but never longer than this, or huge batches would crawl
BLOCKED_SPEEDUP = 4  # re-read this much sooner while points wait for the running cap
SUBMITTING_INTERVAL = 2.0  # while submitting under the cap, re-reads only show progress
FALLBACK_INTERVAL = 10.0  # seconds between re-reads when no event arrives
READ_BUDGET = 0.2  # re-read requests per point (plus FREE_READS) before re-reads slow down
FREE_READS = 20
TICK = 1.0  # seconds between progress updates


def refresh_interval(rows: int, spent: int, points: int) -> float:
    """Big re-reads come less often; once the re-reads have cost their budget of requests
    per point, only every ``MAX_INTERVAL``. ``rows``: the jobs still to finish, which the
    next re-read returns (with those created meanwhile)."""
    if spent >= READ_BUDGET * points + FREE_READS:
        return MAX_INTERVAL
    return min(MIN_INTERVAL + rows * ROW_COST, MAX_INTERVAL)


def execute(
    board: Board,
    platform: Platform,
    submitter: Submitter,
    window: ReadWindow,
    *,
    threads: int,
    wait: bool,
    progress: ProgressSink,
    after_read: Callable[[], None] | None = None,
) -> None:
    """Run the board until it settles; a KeyboardInterrupt stops submissions and propagates.
    ``after_read`` runs after every re-read the board took in (a search tells and asks there)."""
    if board.settled(wait=wait):
        return
    with platform.job_events() as events:
        pool = [
            threading.Thread(
                target=work, args=(board, submitter, _waker(board, events)), name=f"batchrun-submit-{n}",
                daemon=True,
            )
            for n in range(threads)
        ]
        for thread in pool:
            thread.start()
        try:
            watch(
                board,
                lambda since: platform.owned_jobs(submitter.batch, run=submitter.run, created_after=since),
                events,
                window,
                wait=wait,
                progress=progress,
                after_read=after_read,
            )
        except BaseException:
            board.stop()
            raise
        finally:
            board.close()


def _waker(board: Board, events: JobEventStream) -> Callable[[], None]:
    """What a submit thread runs after an acknowledged create: once nothing is left to submit,
    the watch loop may hold the completion event of the job just acknowledged (it can arrive
    first), so it is woken to look again rather than wait out its interval."""

    def acknowledged() -> None:
        if not board.submitting():
            events.wake()

    return acknowledged


def watch(
    board: Board,
    read_jobs: Callable[[datetime | None], list[RemoteJob]],
    events: JobEventStream,
    window: ReadWindow,
    *,
    wait: bool,
    progress: ProgressSink,
    after_read: Callable[[], None] | None = None,
) -> None:
    """Follow the board's jobs until nothing is left to submit or (when waiting) to finish."""
    normal, spent = MIN_INTERVAL, 0
    last_read = time.monotonic()  # the plan was read just now
    changes: set[str] = set()  # jobs that events named since the last re-read
    while not board.settled(wait=wait):
        if board.crash is not None:
            raise board.crash
        now = time.monotonic()
        if board.blocked():
            interval = normal / BLOCKED_SPEEDUP
        else:
            interval = max(normal, SUBMITTING_INTERVAL) if board.submitting() else normal
        due = last_read + (interval if changes else FALLBACK_INTERVAL)
        wake = min(due, board.next_deadline() or math.inf, now + TICK)
        if wake > now:
            changes |= events.wait(wake - now)
        now = time.monotonic()
        due = last_read + (interval if changes else FALLBACK_INTERVAL)
        if now >= due or (changes and board.all_changed(changes)):
            window.expect(board.take_acks())
            since = window.since()
            jobs = read_jobs(since)
            window.saw(jobs, since, now)
            board.observe(jobs, now)
            if after_read is not None:
                after_read()
            spent += 1 + len(jobs) // PAGE_SIZE  # requests: the query, then one per further page
            normal = refresh_interval(board.unfinished(), spent, len(board.points))
            last_read = now
            changes = set()
        board.check_timeouts(now)
        progress.update(board.counts(), done=board.done(), finished_here=board.finished_here)
