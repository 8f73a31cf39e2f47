"""``LocalJMA``: the embedded Job-Management API, served by uvicorn in a background thread.

    with LocalJMA(".batchrun/localjma.sqlite3", steps=["steps.py"]) as jma:
        client = httpx.Client(base_url=jma.url)   # any pinexq-client code works from here

This is where the layers meet: it builds the store, the domain, the worker pool and the
HTTP app (the API under ``/api``, the portal at every other path), and translates
between the pool and the domain (offers out, reports in).
Start order matters: the database is recovered and the steps registered before the socket
accepts requests, and the workers are ready before the first job can be started.
"""

from __future__ import annotations

import ctypes
import ipaddress
import json
import logging
import os
import socket
import ssl
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from batchrun.errors import BatchrunError, UsageError
from batchrun.localjma.domain.folders import FolderService
from batchrun.localjma.domain.jobs import JobService
from batchrun.localjma.domain.queries import Queries
from batchrun.localjma.domain.recovery import redispatch_pending, requeue_interrupted
from batchrun.localjma.domain.slot_declarations import input_slots
from batchrun.localjma.domain.steps import StepRegistry
from batchrun.localjma.domain.workdata import WorkDataService
from batchrun.localjma.errors import InvalidSetting, SettingError
from batchrun.localjma.http.app import build_app
from batchrun.localjma.http.commits import CommitGroup
from batchrun.localjma.http.context import Context
from batchrun.localjma.http.events import EventBroker
from batchrun.localjma.http.forwarded import LOOPBACK, trusted_networks
from batchrun.localjma.http.limits import MAX_UPLOAD_BYTES
from batchrun.localjma.http.siren import job_href
from batchrun.localjma.http.stats import TrafficStats, counting_protocol
from batchrun.localjma.portal import with_portal
from batchrun.localjma.store.database import Store
from batchrun.localjma.store.rows import JobRow, LogLine, SampleRow, StepRow, UsageRow
from batchrun.localjma.workers.discovery import discover_steps
from batchrun.localjma.workers.messages import (
    InputData,
    JobOffer,
    JobStarted,
    JobStopped,
    JobUsage,
    OutputWritten,
    PoolEvent,
    UsageSample,
    UsageSampled,
)
from batchrun.localjma.workers.pool import WorkerPool

log = logging.getLogger(__name__)
_START_TIMEOUT_S = 15.0
_M_TOP_PAD = -2  # glibc's mallopt parameter: how much freed memory the heap keeps at its top
_TOP_PAD_BYTES = 16 << 20


def _keep_freed_memory() -> None:
    """Have the C allocator keep up to 16 MiB of freed heap for the next request.

    A page of 1,000 jobs passes through a few MB of buffers (its items, its body) that are
    freed once it is sent. glibc handed that memory back to the OS at once, and the next
    page took it again one page fault at a time: 600 faults a page, 1.5 ms of its 10 on the
    reference machines. The process's memory grows by at most the pad. Only glibc has the
    setting; elsewhere nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_TOP_PAD, _TOP_PAD_BYTES)


def default_data_dir(db_path: Path) -> Path:
    """WorkData content lives next to the database: ``localjma.sqlite3`` → ``localjma.workdata/``."""
    return db_path.with_name(f"{db_path.stem}.workdata")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    """The host to put in URLs: a wildcard bind is reached through the loopback address."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host.lower()


class LocalJMA:
    """The local JMA on ``db_path``, running the steps found in ``steps`` on worker processes.

    ``workers=None`` uses one worker per CPU; ``workers=0`` accepts and queues jobs without
    running them (they run when the server is started again with workers). ``job_timeout``
    (seconds) kills a worker whose job runs longer and fails that job. ``stats=True``
    counts requests and connections (``GET /api/_stats``, see :mod:`.http.stats`). WorkData content
    lives in ``data_dir`` (default: next to the database, see :func:`default_data_dir`);
    uploads over ``max_upload_bytes`` get a 413 problem. Workers find the server's URL (and
    API key) in ``JMC_API_HOST_URL``/``JMC_API_KEY``, so step code can create sub-jobs.

    With ``tls_cert`` and ``tls_key`` (PEM files) it serves HTTPS and every link is
    ``https://``. Behind a TLS-terminating proxy, the proxy's ``X-Forwarded-Proto`` and
    ``X-Forwarded-Host`` decide the links when it connects from ``forwarded_allow_ips``
    (addresses or networks, ``*`` for any; default loopback only).

    A setting it cannot work with raises :class:`~batchrun.localjma.errors.SettingError`
    naming the argument, so a command can say which of its options to change.
    """

    def __init__(
        self,
        db_path: Path | str,
        steps: Sequence[str] = (),
        workers: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        log_level: str = "warning",
        env: Mapping[str, str] | None = None,
        stats: bool = False,
        job_timeout: float | None = None,
        data_dir: Path | str | None = None,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        tls_cert: Path | str | None = None,
        tls_key: Path | str | None = None,
        forwarded_allow_ips: Sequence[str] = LOOPBACK,
    ) -> None:
        if not is_loopback(host) and not api_key:
            raise UsageError(
                f"refusing to serve on {host}, which other machines can reach, without an API key: "
                "pass --api-key (or set BATCHRUN_SERVE_API_KEY), or bind to 127.0.0.1"
            )
        if workers is not None and workers < 0:
            raise InvalidSetting("", "workers", f" must be 0 or more, got {workers}")
        if job_timeout is not None and job_timeout <= 0:
            raise InvalidSetting("", "job_timeout", f" must be more than 0 seconds, got {job_timeout:g}")
        if (tls_cert is None) != (tls_key is None):
            raise InvalidSetting("", "tls_cert" if tls_cert is None else "tls_key",
                                 " is missing: TLS needs both the certificate and its private key")
        try:
            self._trusted_proxies = trusted_networks(forwarded_allow_ips)
        except ValueError as error:
            raise InvalidSetting("", "forwarded_allow_ips", f": {error}") from None
        self.tls = None if tls_cert is None or tls_key is None else (Path(tls_cert), Path(tls_key))
        self.db_path = Path(db_path)
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir(self.db_path)
        self.max_upload_bytes = max_upload_bytes
        self.steps = tuple(steps)
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self.host = host
        self.port = port
        self.url = ""
        self._api_key = api_key
        self._log_level = log_level
        self._env = env
        self.job_timeout = job_timeout
        self.stats = TrafficStats() if stats else None
        self._store: Store | None = None
        self._pool: WorkerPool | None = None
        self._jobs: JobService | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._broker: EventBroker | None = None

    def start(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        _keep_freed_memory()
        store = self._store = Store(self.db_path)
        registry = StepRegistry(store)
        if self.steps:
            registry.register_definitions(discover_steps(self.steps), str(self.db_path))
        broker = self._broker = EventBroker()
        broker.publish(store.events_since(time.time() - broker.replay_s))
        jobs = self._jobs = JobService(store, registry, broker.publish)
        requeue_interrupted(jobs)
        workdata = WorkDataService(store, self.data_dir)
        workdata.remove_orphans()  # before any worker or upload writes there
        self._check_tls()
        sock = self._bind()
        scheme = "http" if self.tls is None else "https"
        self.url = f"{scheme}://{_url_host(self.host)}:{sock.getsockname()[1]}"
        if self.steps and self.workers > 0:
            self._start_pool()
            jobs.offer = self._offer
        redispatch_pending(jobs)
        context = Context(
            store.user_id, registry, jobs, workdata, Queries(store, registry), broker, FolderService(store),
            CommitGroup(store.transaction), self.max_upload_bytes,
        )
        config = uvicorn.Config(
            with_portal(build_app(context, self._api_key, self.stats, self._trusted_proxies), context, self._api_key),
            http=AutoHTTPProtocol if self.stats is None else counting_protocol(AutoHTTPProtocol, self.stats),
            log_level=self._log_level,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=3,
            proxy_headers=False,  # the app reads the forwarded headers itself, Host included
            ssl_certfile=None if self.tls is None else str(self.tls[0]),
            ssl_keyfile=None if self.tls is None else str(self.tls[1]),
        )
        server = self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="localjma", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        pause = threading.Event()
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise BatchrunError(f"the local JMA did not start on {self.url}; see the messages above")
            pause.wait(0.01)

    def _check_tls(self) -> None:
        """Load the certificate and key once before serving: uvicorn would fail in its
        thread, and the message would not say which file is wrong."""
        if self.tls is None:
            return
        cert, key = self.tls
        for setting, path in (("tls_cert", cert), ("tls_key", key)):
            if not path.is_file():
                raise SettingError(f"{path} does not exist or is not a file: check ", setting)
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
        except (ssl.SSLError, ValueError) as error:
            raise SettingError(
                f"cannot use {cert} with the key {key} ({error}): give a PEM certificate and its private key as ",
                "tls_cert",
            ) from None

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
        # without it every small response waits for the client's delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host.strip("[]"), self.port))
        except OSError as error:
            sock.close()
            raise SettingError(
                f"cannot listen on {self.host}:{self.port} ({error.strerror}); choose another ", "port"
            ) from None
        sock.listen(2048)
        return sock

    def _start_pool(self) -> None:
        # Step code calls back into this server (sub-jobs) with pinexq's get_client() convention.
        env = {**(self._env or {}), "JMC_API_HOST_URL": self.url}
        if self._api_key:
            env["JMC_API_KEY"] = self._api_key
        self._pool = WorkerPool(
            self.steps, self.workers, self._record, env=env, job_timeout=self.job_timeout, data_dir=str(self.data_dir)
        )
        self._pool.start()

    def _offer(self, job: JobRow, step: StepRow) -> None:
        assert self._pool is not None
        assert self._store is not None
        parameters: dict[str, Any] = {} if job.parameters is None else json.loads(job.parameters)
        selected = self._store.job_inputs(job) if input_slots(step) else {}
        inputs = tuple(
            tuple(InputData(d.id, d.name, d.media_type, d.tags, d.comments) for d in selected.get(index, ()))
            for index in range(len(input_slots(step)))
        )
        url = job_href(self.url, job.id)
        self._pool.submit(JobOffer(job.id, step.function_name, step.version, parameters, url, inputs))

    def _record(self, batch: list[PoolEvent]) -> None:
        """Worker reports, from the pool's thread.

        Jobs the pool had to kill at a stop are left Processing: :meth:`stop` (or the next
        start, after a crash) re-queues them (see :mod:`.domain.recovery`).
        """
        if self._jobs is None:
            return
        try:
            with self._jobs.recording() as record:
                for report in batch:
                    if isinstance(report, JobStarted):
                        record.started(report.job_id, report.worker_id, report.at)
                    elif isinstance(report, OutputWritten):
                        record.output(report)
                    elif isinstance(report, UsageSampled):
                        record.sampled(_sample_row(report.job_id, report.sample))
                    elif not isinstance(report, JobStopped):
                        record.finished(
                            report.job_id, report.result, report.error, report.at,
                            [LogLine(e.at, e.level, e.message, e.source) for e in report.log],
                            _usage_row(report.job_id, report.usage),
                        )
        except Exception:
            log.exception("could not record worker reports %s", batch)

    def stop(self) -> None:
        """Stop serving, let running jobs finish briefly, close the database. Safe to call twice."""
        if self._broker is not None:
            self._broker.close()  # ends the SSE streams, so the server can shut down at once
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._pool is not None:
            self._pool.stop()
            self._pool = None
        if self._jobs is not None:
            requeue_interrupted(self._jobs)
            self._jobs = None
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def _sample_row(job_id: str, sample: UsageSample) -> SampleRow:
    return SampleRow(job_id, sample.at, sample.cpu_cores, sample.memory_bytes)


def _usage_row(job_id: str, usage: JobUsage | None) -> UsageRow | None:
    """A worker's measure of a job as the store keeps it (the worker is filled in there)."""
    return None if usage is None else UsageRow(job_id, None, usage.cpu_seconds, usage.peak_memory_bytes)
