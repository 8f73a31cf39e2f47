"""``plan`` against a server that refuses every mutating request still works.

A tiny loopback proxy in front of the local JMA forwards GETs and the two query actions
(CreateJobQuery, CreateProcessingStepQuery) and answers 405 to every other request, so
any mutating call plan might make would fail the command and be on the proxy's record.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from batchrun.manifest import expand, load_manifest
from batchrun.platform import Platform, PlatformError

QUERY_ACTIONS = ("/api/JobsRoot/Query", "/api/ProcessingStepsRoot/Query")


class ReadOnlyProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.upstream = httpx.Client(base_url=upstream, timeout=30)
        self.refused: list[str] = []
        self.forwarded: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class ProxyHandler(BaseHTTPRequestHandler):
    server: ReadOnlyProxy

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._forward()

    def do_POST(self) -> None:  # noqa: N802
        if self.path.split("?", 1)[0] in QUERY_ACTIONS:
            self._forward()
        else:
            self._refuse()

    def _refuse(self) -> None:
        self.server.refused.append(f"{self.command} {self.path}")
        body = json.dumps({"title": "read-only proxy", "status": 405,
                           "detail": f"{self.command} {self.path} refused"}).encode()
        self.send_response(405)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = do_PATCH = do_DELETE = _refuse

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        # The Host header is kept, so the JMA's hrefs point back at the proxy.
        headers = {name: value for name, value in self.headers.items()
                   if name.lower() in ("host", "content-type", "x-api-key", "accept")}
        answer = self.server.upstream.request(self.command, self.path, content=body, headers=headers)
        self.server.forwarded.append(f"{self.command} {self.path}")
        self.send_response(answer.status_code)
        for name in ("content-type", "location", "cache-control"):
            if name in answer.headers:
                self.send_header(name, answer.headers[name])
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)


@pytest.fixture
def proxy(jma) -> Iterator[ReadOnlyProxy]:
    server = ReadOnlyProxy(jma.url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.upstream.close()
    thread.join(timeout=5)


def test_plan_through_a_read_only_proxy(cli, proxy, platform, submit, write_manifest):
    path = write_manifest("readonly", grid="a: [1, 2, 3]")
    manifest = load_manifest(path)
    submit(platform, manifest, expand(manifest, step_version="1.0.0")[:2])
    for output in ("table", "json"):
        result = cli(["plan", str(path), "--endpoint", proxy.url, "-o", output, "--explain", "--prune"])
        assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["summary"]["unchanged"] == 2 and document["summary"]["create"] == 1
    assert proxy.refused == []
    assert any(line.startswith("POST /api/JobsRoot/Query") for line in proxy.forwarded)


def test_the_proxy_really_refuses_changes(proxy):
    with Platform(proxy.url, None) as readonly:
        step = readonly.resolve_step("add", "1.0.0")
        with pytest.raises(PlatformError, match="405"):
            readonly.create_job(name="x", step=step, parameters={"a": 1, "b": 2}, tags=["t"])
    assert proxy.refused == ["POST /api/JobsRoot/RapidSetupJob"]
