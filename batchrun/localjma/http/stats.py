"""Opt-in traffic counters of the local JMA (``batchrun serve --stats``), for benchmarks.

The server is the one place that sees every client's traffic, so requests per job and
open connections are counted here rather than in each client. With stats on:

* ``GET /api/_stats`` answers plain JSON: ``requests`` (total), ``by_route`` (method and
  path with ids replaced by ``{id}``), ``open_connections``, ``peak_connections`` and
  ``opened_connections`` (new ones since the reset: a client that reopens them shows here);
* ``DELETE /api/_stats`` starts a new measurement (counts to zero, peak to what is open).

Requests to ``/api/_stats`` itself are not counted. Off by default: without ``--stats``
the routes do not exist and nothing is counted. Everything runs on the server's event
loop, so the counters need no lock.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

STATS_PATH = "/api/_stats"
_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def route_of(method: str, path: str) -> str:
    """``GET /api/Job/{id}``: the request's method and path with resource ids blanked out."""
    parts = ["{id}" if _ID.match(part) else part for part in path.split("/")]
    return f"{method} {'/'.join(parts)}"


class TrafficStats:
    """Request and connection counts since the last reset."""

    def __init__(self) -> None:
        self.by_route: Counter[str] = Counter()
        self.open_connections = 0
        self.peak_connections = 0
        self.opened_connections = 0

    def request(self, method: str, path: str) -> None:
        self.by_route[route_of(method, path)] += 1

    def opened(self) -> None:
        self.open_connections += 1
        self.opened_connections += 1
        self.peak_connections = max(self.peak_connections, self.open_connections)

    def closed(self) -> None:
        self.open_connections -= 1

    def reset(self) -> None:
        self.by_route.clear()
        self.peak_connections = self.open_connections
        self.opened_connections = 0

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": sum(self.by_route.values()),
            "by_route": dict(self.by_route.most_common()),
            "open_connections": self.open_connections,
            "peak_connections": self.peak_connections,
            "opened_connections": self.opened_connections,
        }


class CountRequests:
    """ASGI middleware: counts every HTTP request except those for the stats themselves."""

    def __init__(self, app: ASGIApp, stats: TrafficStats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != STATS_PATH:
            self.stats.request(scope["method"], scope["path"])
        await self.app(scope, receive, send)


def stats_routes(stats: TrafficStats) -> list[Route]:
    async def read(request: Request) -> Response:
        return JSONResponse(stats.snapshot())

    async def reset(request: Request) -> Response:
        stats.reset()
        return JSONResponse(stats.snapshot())

    return [Route(STATS_PATH, read, methods=["GET"]), Route(STATS_PATH, reset, methods=["DELETE"])]


def counting_protocol(base: type[asyncio.Protocol], stats: TrafficStats) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class (one instance per TCP connection), counting connections."""

    class CountingProtocol(base):  # type: ignore[valid-type, misc]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            stats.opened()
            super().connection_made(transport)

        def connection_lost(self, exc: Exception | None) -> None:
            stats.closed()
            super().connection_lost(exc)

    return CountingProtocol
