"""HTTPS: ``batchrun serve --tls-cert/--tls-key``, links behind a TLS proxy, and the plain-HTTP warning."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import certifi
import httpx
import pytest
from pinexq.client.job_management import Job, ProcessingStep
from pinexq.client.job_management.enterjma import create_pinexq_client
from pinexq.client.job_management.model import JobStates

from batchrun.localjma import LocalJMA
from tests.serving import ServeProcess
from tests.support import run_batchrun, wait_until
from tests.tls import Certificate, make_certificate

KEY = "tls-test-key"


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return make_certificate(tmp_path / "tls")


def _hrefs(entity: dict[str, object]) -> list[str]:
    return [link["href"] for link in entity["links"]]  # type: ignore[index, union-attr, attr-defined]


def test_serve_over_tls_gives_https_links_and_runs_jobs(
    tmp_path: Path, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.authority))  # as the README tells users
    with ServeProcess(tmp_path / "tls.sqlite3", workers=1, api_key=KEY, args=certificate.serve_args()) as server:
        with pytest.raises(httpx.HTTPError):  # plain HTTP is not answered on the TLS port
            httpx.get(server.url.replace("https://", "http://") + "/api/EntryPoint", headers={"x-api-key": KEY})
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):  # nor trusted without the CA
            httpx.get(f"{server.url}/api/EntryPoint", verify=ssl.create_default_context(cafile=certifi.where()))
        with create_pinexq_client(server.url, api_key=KEY, use_client_cache=False) as client:
            entry = client.get("/api/EntryPoint").json()
            job = Job(client).create_and_configure_rapidly(
                name="over tls", processing_step_instance=ProcessingStep.from_name(client, "echo"),
                parameters=json.dumps({"text": "ok"}), start=True,
            )
            # polled: pinexq-client's event-stream thread would outlive the server and complain
            wait_until(lambda: job.get_state() == JobStates.completed, timeout=30, what="the job over TLS")
            result = job.get_result()
            self_link = str(job.self_link().get_url())

    assert server.url.startswith("https://127.0.0.1:")
    assert all(href.startswith(f"{server.url}/api/") for href in _hrefs(entry))
    assert self_link.startswith(f"{server.url}/api/Job/") and result == "ok"
    assert KEY not in server.output() + server.log_text()


def test_a_trusted_proxy_decides_scheme_and_host_of_the_links(database: Path) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "jma.example.org"}
    with LocalJMA(database, workers=0) as jma, httpx.Client(base_url=jma.url) as client:
        proxied = client.get("/api/EntryPoint", headers=forwarded).json()
        job = client.post("/api/JobsRoot/CreateJob", json={"Name": "proxied"}, headers=forwarded)
        direct = client.get("/api/EntryPoint").json()

    assert all(href.startswith("https://jma.example.org/api/") for href in _hrefs(proxied))
    assert job.headers["location"].startswith("https://jma.example.org/api/Job/")
    assert all(href.startswith(f"{jma.url}/api/") for href in _hrefs(direct))


def test_forwarded_headers_of_an_untrusted_peer_are_ignored(database: Path) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example.org"}
    with LocalJMA(database, workers=0, forwarded_allow_ips=["10.0.0.0/8"]) as jma:
        with httpx.Client(base_url=jma.url) as client:
            entry = client.get("/api/EntryPoint", headers=forwarded).json()

    assert all(href.startswith(f"{jma.url}/api/") for href in _hrefs(entry))


def test_an_api_key_over_plain_http_off_loopback_is_warned_about(tmp_path: Path) -> None:
    with ServeProcess(tmp_path / "open.sqlite3", workers=0, api_key=KEY, args=["--host", "0.0.0.0"]) as server:
        assert server.url.startswith("http://")
    warning = " ".join(server.log_text().split())

    assert "warning" in warning and "API key travels readable on the network" in warning
    assert "--tls-cert" in warning and KEY not in warning


@pytest.mark.parametrize(("args", "named", "code"), [
    (["--tls-cert", "{cert}"], "--tls-key is missing", 2),
    (["--tls-key", "{key}"], "--tls-cert is missing", 2),
    (["--tls-cert", "{missing}", "--tls-key", "{key}"], "check --tls-cert", 1),
    (["--tls-cert", "{key}", "--tls-key", "{cert}"], "give a PEM certificate and its private key as --tls-cert", 1),
    (["--forwarded-allow-ips", "10.0.0.0/8,proxy.local"], "--forwarded-allow-ips: 'proxy.local' is not an IP", 2),
])
def test_bad_tls_and_proxy_settings_are_named(
    tmp_path: Path, certificate: Certificate, args: list[str], named: str, code: int
) -> None:
    paths = {"cert": certificate.cert, "key": certificate.key, "missing": tmp_path / "none.pem"}
    command = ["serve", "--port", "0", "--db", str(tmp_path / "x.sqlite3"), "--workers", "0",
               *(arg.format(**paths) for arg in args)]

    result = run_batchrun(*command, timeout=60)

    assert result.returncode == code
    assert named in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
