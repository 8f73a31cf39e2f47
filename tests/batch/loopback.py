"""A loopback HTTP proxy in front of a local JMA, to count or disturb what a command sends.

A rule sees each request (method and path) and returns a verdict:

* ``forward``: pass it on and return the answer;
* ``refuse``: 405, never reaches the server;
* ``502`` / ``503`` / ``503-retry-after``: that answer (the last with ``Retry-After: 1``),
  never reaches the server, as from a gateway in front of a server that is down;
* ``429-retry-after``: 429 Too Many Requests with ``Retry-After: 1``, as from a platform's
  rate limit; never reaches the server;
* ``drop``: close the connection without an answer, never reaches the server;
* ``lose-answer``: reaches the server, but the client gets a 502, as after a reset or a
  gateway timeout;
* ``drop-answer``: reaches the server, then the connection closes without an answer;
* ``cut-answer``: reaches the server; the answer's status, headers and first half of its
  body come through (with the whole body's length), then the connection closes, as when a
  network drops a download midway;
* ``delay``: reaches the server, the answer is held for ``delay`` seconds (past the
  client's timeout) before it is sent.

Event streams are passed through as they arrive, so SSE works through the proxy. Only
loopback addresses are used, and every delay is bounded by ``delay``.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

import httpx

Rule = Callable[[str, str], str]
PASSED_HEADERS = ("host", "content-type", "x-api-key", "accept", "cache-control")
RETURNED_HEADERS = ("content-type", "location", "cache-control")
ANSWERED_HERE = {"refuse": 405, "502": 502, "503": 503, "503-retry-after": 503, "429-retry-after": 429}


def forward_all(method: str, path: str) -> str:
    return "forward"


class LoopbackProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str, rule: Rule = forward_all, *, delay: float = 0.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.rule = rule
        self.delay = delay
        self.requests: list[str] = []
        self.verdicts: Counter[str] = Counter()
        self._closing = threading.Event()
        self.upstream = httpx.Client(base_url=upstream, timeout=httpx.Timeout(30.0, read=None))
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def count(self, method: str, path_part: str = "") -> int:
        """How many requests with this method (and path fragment) the proxy saw."""
        return sum(
            1 for line in self.requests if line.startswith(f"{method} ") and path_part in line
        )

    def __enter__(self) -> LoopbackProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._closing.set()  # ends pending delays at once
        self.shutdown()
        self.server_close()
        self.upstream.close()


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackProxy

    def log_message(self, format: str, *args: object) -> None:  # http.server's signature; quiet
        pass

    def do_GET(self) -> None:  # http.server's naming
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _handle(self) -> None:
        self.server.requests.append(f"{self.command} {self.path}")
        verdict = self.server.rule(self.command, self.path)
        self.server.verdicts[verdict] += 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if verdict in ANSWERED_HERE:
            retry_after = "1" if verdict.endswith("-retry-after") else None
            self._problem(ANSWERED_HERE[verdict], f"{verdict} from the test proxy", retry_after)
            return
        if verdict == "drop":
            self.close_connection = True
            return
        # The Host header is kept, so the JMA's hrefs point back at the proxy.
        headers = {k: v for k, v in self.headers.items() if k.lower() in PASSED_HEADERS}
        request = self.server.upstream.build_request(
            self.command, self.path, content=body, headers=headers
        )
        answer = self.server.upstream.send(request, stream=True)
        try:
            if verdict == "lose-answer":
                answer.read()
                self._problem(502, "the test proxy lost the answer")
            elif verdict == "drop-answer":
                answer.read()
                self.close_connection = True
            elif verdict == "cut-answer":
                self._copy(answer, cut=True)
            elif verdict == "delay":
                answer.read()
                self.server._closing.wait(self.server.delay)
                self._copy(answer)
            elif "text/event-stream" in answer.headers.get("content-type", ""):
                self._stream(answer)
            else:
                self._copy(answer)
        finally:
            answer.close()

    def _copy(self, answer: httpx.Response, *, cut: bool = False) -> None:
        content = answer.read()
        try:
            self.send_response(answer.status_code)
            for name in RETURNED_HEADERS:
                if name in answer.headers:
                    self.send_header(name, answer.headers[name])
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content[: len(content) // 2] if cut else content)
            if cut:
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a delayed answer)

    def _stream(self, answer: httpx.Response) -> None:
        self.send_response(answer.status_code)
        self.send_header("content-type", answer.headers["content-type"])
        self.end_headers()
        try:
            for chunk in answer.iter_raw():
                self.wfile.write(chunk)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, httpx.HTTPError):
            pass  # the client hung up, or the server went away

    def _problem(self, status: int, title: str, retry_after: str | None = None) -> None:
        body = json.dumps({"title": title, "status": status}).encode()
        self.send_response(status)
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
