"""``batchrun serve``: run the local JMA on its own, for any pinexq-client code to use."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from batchrun.cli.connection import local_jma_flags
from batchrun.localjma.http.forwarded import LOOPBACK

SERVE_HELP = """Serve the embedded local Job-Management API until Ctrl-C (or SIGTERM).

Prints the endpoint URL on stdout. Any pinexq-client code (and batchrun with
--endpoint URL) can use it; jobs of the steps in --steps run on local worker processes.
The same URL opened in a browser is the local portal (the API is under /api): jobs
and batches live, a form per step to start a job, WorkData uploads and downloads;
with --api-key it asks for the key once and keeps a session.

\b
Everything lives in the --db SQLite file (WorkData content in a folder next
to it: localjma.sqlite3 -> localjma.workdata/); restarting loses nothing:
  - jobs that were Pending (started, never picked up) run after the restart;
  - jobs that were Processing when the server stopped (or was killed) are
    re-queued: back to Pending, StartedAt and WorkerId cleared, the event
    log noting "requeued: the local JMA stopped while this job was
    processing"; they run again as the same job, so a step may see a job
    twice (at-least-once);
  - a job re-queued twice already goes to Error instead, so a job that
    brings the server down cannot do so forever.
One server per --db: a second one waits briefly, then stops naming the
pid of the first. A step whose code changed under an already registered
name@version is refused at start: bump its @version. The event log keeps
the history of deleted jobs: batchrun events --endpoint URL --job ID.
"""


@click.command("serve", help=SERVE_HELP)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on; anything but loopback requires --api-key.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free one).")
@click.option("--db", "database", type=click.Path(dir_okay=False, path_type=Path),
              default=Path(".batchrun") / "localjma.sqlite3", show_default=True,
              help="SQLite database file (created if missing).")
@click.option("--steps", "steps", multiple=True, metavar="FILE_OR_MODULE",
              help="Python file or module with step functions; repeat for several.")
@click.option("--workers", type=click.IntRange(0), default=None,
              help="Worker processes (default: one per CPU; 0 queues jobs without running them).")
@click.option("--api-key", envvar="BATCHRUN_SERVE_API_KEY", default=None,
              help="Require this x-api-key header on every request. Prefer setting BATCHRUN_SERVE_API_KEY: "
                   "a flag shows in process listings until batchrun masks it at start-up.")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]),
              default="warning", show_default=True, help="Server log level.")
@click.option("--job-timeout", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS",
              help="Kill a job's worker when the job runs longer, failing the job (default: no limit).")
@click.option("--stats", is_flag=True,
              help="Count requests and open connections at GET /api/_stats (DELETE resets); for benchmarks.")
@click.option("--tls-cert", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Serve HTTPS with this PEM certificate (needs --tls-key); every link is then https://.")
@click.option("--tls-key", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="The PEM private key of --tls-cert.")
@click.option("--forwarded-allow-ips", default=",".join(LOOPBACK), show_default=True, metavar="ADDRESSES",
              help="Comma-separated proxy addresses or networks ('*': any) whose X-Forwarded-Proto and "
                   "X-Forwarded-Host decide the links, for a TLS-terminating proxy in front.")
def serve_command(
    host: str, port: int, database: Path, steps: tuple[str, ...], workers: int | None,
    api_key: str | None, log_level: str, job_timeout: float | None, stats: bool,
    tls_cert: Path | None, tls_key: Path | None, forwarded_allow_ips: str,
) -> None:
    from batchrun.localjma import LocalJMA  # the server stack loads only for this command
    from batchrun.localjma.server import is_loopback

    if api_key and tls_cert is None and not is_loopback(host):
        click.echo(
            f"batchrun: warning: serving on {host} over plain HTTP: the API key travels readable on the network "
            "with every request, for anyone on the way to copy; pass --tls-cert/--tls-key, or put a TLS proxy "
            "in front and bind to 127.0.0.1",
            err=True,
        )
    with local_jma_flags(), LocalJMA(
        database, steps=steps, workers=workers, host=host, port=port, api_key=api_key, log_level=log_level,
        stats=stats, job_timeout=job_timeout, tls_cert=tls_cert, tls_key=tls_key,
        forwarded_allow_ips=forwarded_allow_ips.split(","),
    ) as jma:
        click.echo(jma.url)
        click.echo(f"batchrun: serving {database} on {jma.url}; press Ctrl-C to stop", err=True)
        # A service manager (systemd, docker stop, a benchmark) stops it with SIGTERM: the same
        # clean stop as Ctrl-C, or its workers' folder and a running job's state stay behind.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            click.echo("batchrun: stopping", err=True)
