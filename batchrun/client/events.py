"""One server-sent-event stream of job changes, used as a wake-up signal.

Waiting on hundreds of jobs must not cost a thread or a connection per job: one stream
tells the executor *that* something changed, and it then re-reads the paged tag query,
which carries the states and results. Events are therefore only hints; a lost event costs
at most one wait timeout, so the stream reconnects quietly instead of failing the run.
"""

from __future__ import annotations

import json
import socket
import threading
from contextlib import suppress
from types import TracebackType

import httpx

RECONNECT_PAUSE_MIN = 0.2
RECONNECT_PAUSE_MAX = 5.0


class JobEventStream:
    """A background reader of the JMA event stream, collecting the URLs of changed jobs."""

    def __init__(self, url: str, client: httpx.Client, *, read_timeout: float = 10.0) -> None:
        """Stream from ``url`` over a connection of ``client`` (its headers, its pool), which
        stays open when the stream closes."""
        self._url = url
        self._client = client
        # The server sends a keep-alive every second; silence longer than read_timeout means
        # the connection is dead and is replaced.
        self._timeout = httpx.Timeout(10.0, read=read_timeout)
        self._changed: set[str] = set()
        self._condition = threading.Condition()
        self._closed = threading.Event()
        self._response: httpx.Response | None = None
        self.connects = 0
        self._thread = threading.Thread(target=self._run, name="batchrun-job-events", daemon=True)

    def __enter__(self) -> JobEventStream:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def wait(self, timeout: float) -> set[str]:
        """Block until some job changed or ``timeout`` passed; return (and forget) the job URLs.

        An empty set means no change was seen in time; callers re-query either way when in
        doubt, since events may be lost across reconnects.
        """
        with self._condition:
            if not self._changed:
                self._condition.wait(timeout)
            changed, self._changed = self._changed, set()
        return changed

    def wake(self) -> None:
        """End a :meth:`wait` now, with what has changed so far (perhaps nothing): a waiter
        that holds events it could not act on yet (a job whose create was not acknowledged
        when its completion arrived) looks again at once instead of at its next timeout."""
        with self._condition:
            self._condition.notify_all()

    def close(self) -> None:
        """Stop reading and close the connection (idempotent).

        The reader is blocked in a socket read that would only end with the next keep-alive
        (up to a second later); shutting the socket down ends it at once.
        """
        self._closed.set()
        response = self._response
        if response is not None:
            _shut_down(response)
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)

    def _run(self) -> None:
        pause = RECONNECT_PAUSE_MIN
        while not self._closed.is_set():
            try:
                self._read_stream()
                pause = RECONNECT_PAUSE_MIN
            except (httpx.HTTPError, ValueError, RuntimeError):
                # Dropped, refused or garbled: wait a little and connect again.
                self._closed.wait(pause)
                pause = min(pause * 2, RECONNECT_PAUSE_MAX)

    def _read_stream(self) -> None:
        """Read events until the stream ends; each chunk's job links are noted in one go.

        A large batch brings thousands of events a second; a full SSE decoder (httpx-sse)
        cost more client CPU than everything else the watch loop does, so events are split
        here and only their ``data`` lines are looked at.
        """
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        with self._client.stream("GET", self._url, headers=headers, timeout=self._timeout) as response:
            response.raise_for_status()
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                raise ValueError(f"{self._url} is not an event stream")
            self._response = response
            self.connects += 1
            pending = b""
            try:
                for chunk in response.iter_bytes():
                    if self._closed.is_set():
                        return
                    *events, pending = (pending + chunk).replace(b"\r\n", b"\n").split(b"\n\n")
                    links = [link for event in events for link in _job_links(event)]
                    if links:
                        with self._condition:
                            self._changed.update(links)
                            self._condition.notify_all()
            finally:
                self._response = None


def _job_links(event: bytes) -> list[str]:
    """The job an ``ApiEvent`` names (as sent: job links are absolute hrefs), if any."""
    data = b"\n".join(line[5:].lstrip(b" ") for line in event.split(b"\n") if line.startswith(b"data:"))
    if b"ResourceLink" not in data:
        return []  # keep-alives and other events
    try:
        payload = json.loads(data)
    except ValueError:
        return []
    if not isinstance(payload, dict) or payload.get("ResourceType") != "Job":
        return []
    link = payload.get("ResourceLink")
    return [link] if isinstance(link, str) and link else []


def _shut_down(response: httpx.Response) -> None:
    """Wake a read blocked on the response's socket (the reader then closes the response)."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if sock is None:
        response.close()
        return
    with suppress(OSError):  # already closed by the server
        sock.shutdown(socket.SHUT_RDWR)
