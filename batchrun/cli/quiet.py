"""``-q/--quiet``: only job ids on stdout, one per line, as the ``pinexq`` CLI prints them.

So a batch's jobs feed pinexq's multi-reference verbs, which read ids from stdin:
``batchrun status sweep.yaml -q --only state=failed | pinexq job tag - --add broken``.
The option wins over ``-o``; notices and errors still go to stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

from batchrun.report import ReportJob

F = TypeVar("F", bound=Callable[..., Any])


def quiet_option(command: F) -> F:
    """``-q/--quiet``, passed to the command as ``quiet``."""
    return click.option(
        "-q", "--quiet", is_flag=True,
        help="[Output] Only the ids of the points' jobs, one per line (wins over -o), "
        "e.g. for `pinexq job tag - --add x`.",
    )(command)


def job_id(url: str) -> str:
    """A job's id: the last segment of its URL (``<base>/api/Job/<uuid>``)."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def echo_job_ids(rows: Iterable[ReportJob]) -> None:
    """The id of each point's newest job, in point order (points without a job have none)."""
    ids = [job_id(row.url) for row in rows if row.url]
    if ids:
        click.echo("\n".join(ids))
