"""Links behind a TLS-terminating proxy: ``X-Forwarded-Proto``/``X-Forwarded-Host`` from trusted peers.

Every href the server sends is built from the scheme and Host the request arrived with
(:func:`.siren.base_url`). Behind a proxy that is the proxy's plain-HTTP hop, so a client
that spoke ``https://jma.example`` would be handed ``http://127.0.0.1:8000`` links. A proxy
says what the client addressed in these headers; they are believed only from the peer
addresses given (as uvicorn's ``--forwarded-allow-ips``: addresses, networks, or ``*``),
since anyone else could use them to redirect a client's next request, API key included.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line reads LOOPBACK without loading the server stack
    from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK = ("127.0.0.1", "::1")
_SCHEMES = {"http", "https"}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=256)
def _in_networks(peer: str, networks: tuple[Network, ...]) -> bool:
    """Whether the address ``peer`` is in one of ``networks``; a client keeps its address over
    its requests, so each is parsed once."""
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in networks)


def trusted_networks(addresses: Iterable[str]) -> tuple[Network, ...] | None:
    """The networks of ``addresses`` (None: every peer is trusted, ``*``); ValueError names a bad one."""
    networks = []
    for address in (item.strip() for item in addresses):
        if address == "*":
            return None
        if address:
            try:
                networks.append(ipaddress.ip_network(address, strict=False))
            except ValueError:
                raise ValueError(f"'{address}' is not an IP address or network (e.g. 10.0.0.0/8), nor '*'") from None
    return tuple(networks)


class ForwardedHeaders:
    """Takes the request's scheme and Host from a trusted proxy's ``X-Forwarded-*`` headers."""

    def __init__(self, app: ASGIApp, trusted: tuple[Network, ...] | None) -> None:
        self.app = app
        self._trusted = trusted

    def _trusts(self, scope: Scope) -> bool:
        if self._trusted is None:
            return True
        client = scope.get("client")
        if not client:
            return False
        return _in_networks(client[0], self._trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._trusts(scope):
            forwarded = {name: value for name, value in scope["headers"]
                         if name in (b"x-forwarded-proto", b"x-forwarded-host")}
            proto = forwarded.get(b"x-forwarded-proto", b"").decode("latin-1").split(",")[0].strip().lower()
            host = forwarded.get(b"x-forwarded-host", b"").split(b",")[0].strip()
            if proto in _SCHEMES or host:
                scope = dict(scope)
                if proto in _SCHEMES:
                    scope["scheme"] = proto
                if host:
                    scope["headers"] = [(n, v) for n, v in scope["headers"] if n != b"host"] + [(b"host", host)]
        await self.app(scope, receive, send)
