"""What every request handler needs: the domain's operations and queries, the events, the limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import HTTPConnection

from batchrun.localjma.domain.folders import FolderService
from batchrun.localjma.domain.jobs import JobService
from batchrun.localjma.domain.queries import Queries
from batchrun.localjma.domain.steps import StepRegistry
from batchrun.localjma.domain.workdata import WorkDataService
from batchrun.localjma.http.commits import CommitGroup
from batchrun.localjma.http.events import EventBroker
from batchrun.localjma.http.limits import MAX_UPLOAD_BYTES
from batchrun.localjma.http.siren import Entity, base_url, encode


@dataclass
class Context:
    user_id: str
    registry: StepRegistry
    jobs: JobService
    workdata: WorkDataService
    queries: Queries
    broker: EventBroker
    folders: FolderService
    commits: CommitGroup
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    _static: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def static(self, base: str, name: str, build: Callable[[str], Entity]) -> bytes:
        """Resources that never change (EntryPoint, Info, roots), encoded once per base URL.

        The client fetches them on every tool construction, so they must cost next to nothing.
        """
        body = self._static.get((base, name))
        if body is None:
            if len(self._static) > 256:  # one entry per Host header seen: keep odd clients bounded
                self._static.clear()
            body = self._static[(base, name)] = encode(build(base))
        return body


def context(connection: HTTPConnection) -> tuple[Context, str]:
    """The server context and the base URL this request addressed."""
    return connection.app.state.context, base_url(connection)
