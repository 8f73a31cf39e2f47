"""Who may use the portal: server-side sessions, the API-key login, CSRF tokens, security headers.

With an API key, a person signs in once with the key; the portal then keeps a random
session id in an ``HttpOnly``, ``SameSite=Strict`` cookie and the key itself never leaves
the login request (never in a page, a URL, a cookie or a log). Without a key (loopback
only) every visitor gets a signed-in session. Every POST carries the session's CSRF token
in a form field, compared in constant time. The CSP allows only the portal's own files:
no inline script or style, nothing remote.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

COOKIE = "batchrun_portal"
CSRF_FIELD = "csrf"
MAX_SESSIONS = 1000
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


@dataclass(frozen=True)
class Session:
    """One browser's session: its id (the cookie), its CSRF token, and whether it signed in."""

    id: str
    csrf: str
    signed_in: bool


class Sessions:
    """Sessions in memory, the oldest forgotten beyond MAX_SESSIONS (a restart signs everyone out)."""

    def __init__(self, api_key: str | None) -> None:
        self._key = None if api_key is None else api_key.encode()
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    @property
    def key_required(self) -> bool:
        return self._key is not None

    def find(self, session_id: str | None) -> Session | None:
        with self._lock:
            return None if session_id is None else self._sessions.get(session_id)

    def new(self, signed_in: bool | None = None) -> Session:
        """A fresh session; signed in from the start when no key is required."""
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32),
                          not self.key_required if signed_in is None else signed_in)
        with self._lock:
            self._sessions[session.id] = session
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        return session

    def sign_in(self, session: Session, key: str) -> Session | None:
        """A new signed-in session (a new id: no fixation) when ``key`` is the API key; else None."""
        if self._key is None or not hmac.compare_digest(key.encode(), self._key):
            return None
        self.drop(session)
        return self.new(signed_in=True)

    def drop(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.id, None)


def session_of(request: Request) -> Session:
    """The session the guard attached to this request."""
    session: Session = request.state.session
    return session


async def checked_form(request: Request) -> FormData:
    """The POSTed form, once its CSRF token matches the session's; 403 otherwise."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    if not isinstance(token, str) or not hmac.compare_digest(token.encode(), session_of(request).csrf.encode()):
        raise HTTPException(403, "the form's security token is missing or stale: reload the page and try again")
    return form
