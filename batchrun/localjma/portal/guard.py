"""The portal's ASGI guard: the session cookie, sign-in redirects, security headers, Server-Timing.

Static files pass untouched (the login page needs its stylesheet). Every other request gets
its session (a new one, with a cookie, when it has none); one that is not signed in is sent
to the login page. ``Server-Timing: app;dur=…`` tells how long the server took to start the
response, which is the page's render time (the benchmark and the browser read it).
"""

from __future__ import annotations

import time
from http.cookies import CookieError, SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from batchrun.localjma.portal.security import COOKIE, SECURITY_HEADERS, Session, Sessions

OPEN_PATHS = ("/login",)
STATIC_PREFIX = "/static/"


def _cookie(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"cookie":
            parsed: SimpleCookie = SimpleCookie()
            try:
                parsed.load(value.decode("latin-1"))
            except CookieError:  # a malformed cookie header is no session
                return None
            morsel = parsed.get(COOKIE)
            return None if morsel is None else morsel.value
    return None


def session_cookie(session: Session) -> str:
    return f"{COOKIE}={session.id}; Path=/; HttpOnly; SameSite=Strict"


class PortalGuard:
    """Wraps the portal's pages; see the module docstring."""

    def __init__(self, app: ASGIApp, sessions: Sessions) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(STATIC_PREFIX):
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        session = self.sessions.find(_cookie(scope))
        fresh = session is None
        if session is None:
            session = self.sessions.new()
        scope.setdefault("state", {})["session"] = session

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.append("server-timing", f"app;dur={(time.perf_counter() - began) * 1000:.1f}")
                if fresh:
                    headers.append("set-cookie", session_cookie(session))
            await send(message)

        if not session.signed_in and scope["path"] not in OPEN_PATHS:
            refusal = (RedirectResponse("/login", 303) if scope["method"] in ("GET", "HEAD")
                       else PlainTextResponse("sign in first", 401))
            await refusal(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)
