"""When a failed request is tried again, and how long to wait first: pure rules, no I/O.

The transport (:mod:`batchrun.client.transport`) describes each failure as a
:class:`Failure` (the HTTP status of the answer, or no answer at all) and asks a
:class:`RetryPolicy`:

* reads retry transient failures: no answer (connection errors, timeouts), 429 and 5xx;
* a create retries only when it certainly did not reach the server (the connection was
  never established, or 429); any other failure without an answer, or a 5xx, leaves it
  uncertain, and the caller looks the point's key tag up instead of sending it again;
* an outage (no answer, 502/503/504) is ridden out for ``patience`` seconds rather than
  a few attempts, so a platform that restarts does not end the run;
* waits follow ``Retry-After`` (capped), else exponential backoff with jitter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

RETRY_AFTER_MAX = 60.0  # seconds: a longer Retry-After is cut to this
BACKOFF_FIRST = 0.2  # seconds before the second try, doubled for every further one
BACKOFF_MAX = 5.0
BACKOFF_JITTER = 0.5  # at most this much is added at random, so clients do not retry in step
OUTAGE_STATUSES = frozenset({502, 503, 504})  # a gateway or server that is not there right now


@dataclass(frozen=True)
class Failure:
    """A failed request as the rules see it."""

    status: int = 0  # the HTTP status of the answer; 0 without one
    transport: bool = False  # no answer: refused, reset or timed out
    never_sent: bool = False  # the connection was never established: nothing reached the server

    @property
    def transient(self) -> bool:
        """Worth trying again: no answer, too many requests, or a server error."""
        return self.transport or self.status == 429 or self.status >= 500

    @property
    def outage(self) -> bool:
        """The platform is not there (rather than refusing this one request)."""
        return self.transport or self.status in OUTAGE_STATUSES

    @property
    def create_may_retry(self) -> bool:
        """A create that certainly was not processed: sending it again cannot make a duplicate."""
        return self.never_sent or self.status == 429

    @property
    def create_uncertain(self) -> bool:
        """A create that may have reached the server: look its key up before creating again."""
        return (self.transport and not self.never_sent) or self.status >= 500


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to try: ``attempts`` tries, or ``patience`` seconds of outage."""

    attempts: int = 5
    patience: float | None = None  # None (or 0): an outage gets ``attempts`` tries like any failure

    def give_up(self, failure: Failure, attempt: int, elapsed: float) -> bool:
        """Whether try number ``attempt``, failing ``elapsed`` seconds after the first began, was the last."""
        if self.patience and failure.outage:
            return elapsed >= self.patience
        return attempt >= self.attempts

    def wait(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before the try after number ``attempt``: the server's ``Retry-After`` (capped)
        when it sent one, else exponential backoff with jitter."""
        if retry_after is not None:
            return min(retry_after, RETRY_AFTER_MAX)
        exponent = min(attempt - 1, 16)  # the cap is reached long before; no float overflow
        return min(BACKOFF_FIRST * 2.0**exponent + random.uniform(0, BACKOFF_JITTER), BACKOFF_MAX)


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header as seconds from now: a number, or an HTTP date (past: 0)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(moment.tzinfo)).total_seconds())
