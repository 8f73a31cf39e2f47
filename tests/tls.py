"""A throwaway certificate authority and a server certificate for 127.0.0.1 and localhost.

Clients trust it the way the README tells users to trust a self-signed certificate:
``SSL_CERT_FILE`` naming the authority's PEM file (httpx, and with it pinexq-client and
the platform's CLI, read it when they build their TLS context).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path
    authority: Path

    def serve_args(self) -> list[str]:
        return ["--tls-cert", str(self.cert), "--tls-key", str(self.key)]


def make_certificate(folder: Path) -> Certificate:
    """A new authority and a server certificate it signed, as PEM files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA()
    server = authority.issue_cert("127.0.0.1", "localhost")
    certificate = Certificate(folder / "server.pem", folder / "server.key", folder / "authority.pem")
    server.cert_chain_pems[0].write_to_path(str(certificate.cert))
    for extra in server.cert_chain_pems[1:]:
        extra.write_to_path(str(certificate.cert), append=True)
    server.private_key_pem.write_to_path(str(certificate.key))
    authority.cert_pem.write_to_path(str(certificate.authority))
    return certificate
