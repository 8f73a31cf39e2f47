"""The connection as the command line takes it: ``--endpoint``/``--api-key`` (or their
environment variables), notices on stderr, and the local JMA's settings named by their flags.

Resolving the endpoint and starting the embedded local JMA is the engine's
(:mod:`batchrun.connection`); this module only words it for the command line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from batchrun.cli.console import announce
from batchrun.client import Platform
from batchrun.connection import ENV_API_KEY, ENV_ENDPOINT, connect
from batchrun.manifest import Manifest

#: The local JMA's settings as the command line names them.
LOCAL_JMA_FLAGS = {
    "db_path": "--db", "port": "--port", "workers": "--workers", "job_timeout": "--job-timeout",
    "tls_cert": "--tls-cert", "tls_key": "--tls-key", "forwarded_allow_ips": "--forwarded-allow-ips",
}

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def connected(
    manifest: Manifest,
    endpoint: str | None,
    api_key: str | None,
    *,
    run_jobs: bool = True,
    patience: float | None = None,
) -> Iterator[Platform]:
    """:func:`~batchrun.connection.connect` for a command: notices on stderr, and a setting
    the embedded local JMA cannot work with named by its flag."""
    with local_jma_flags(), connect(
        manifest, endpoint, api_key, run_jobs=run_jobs, patience=patience, notify=announce
    ) as platform:
        yield platform


@contextmanager
def local_jma_flags() -> Iterator[None]:
    """The local JMA's setting errors, naming the command-line flag of the setting."""
    from batchrun.localjma.errors import SettingError

    try:
        yield
    except SettingError as error:
        raise error.naming(LOCAL_JMA_FLAGS) from None


def connection_options(command: F) -> F:
    """``--endpoint`` and ``--api-key`` (with their environment variables) for a command."""
    command = click.option(
        "--api-key",
        envvar=ENV_API_KEY,
        show_envvar=True,
        default=None,
        metavar="KEY",
        help=(
            "[Connection] API key sent as x-api-key; never printed. Prefer the environment "
            "variable: a flag shows in process listings until batchrun masks it at start-up."
        ),
    )(command)
    return click.option(
        "--endpoint",
        envvar=ENV_ENDPOINT,
        show_envvar=True,
        default=None,
        metavar="URL",
        help=(
            "[Connection] Job-Management API base URL; 'local' (or none configured) runs "
            "the embedded local JMA with its database in .batchrun/ next to the manifest."
        ),
    )(command)
