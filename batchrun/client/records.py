"""Jobs and processing steps as the client hands them to the engine: plain frozen values."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime

from pinexq.client.core import ClientException

from batchrun.client.wire import JobItem, ProtocolError, StepItem
from batchrun.identity import TAG_ATTEMPT, TAG_KEY, TAG_RUN, TAG_SPEC
from batchrun.states import FINISHED


@dataclass(frozen=True)
class StepInfo:
    """A processing step (one version of it) as registered on the platform."""

    url: str
    function_name: str
    version: str
    parameter_schema: dict | None
    deprecated: bool = False

    @classmethod
    def from_item(cls, item: StepItem) -> StepInfo:
        if item.self_href is None:
            raise ProtocolError("a processing step on a query page has no self link")
        step = item.properties
        return cls(
            url=item.self_href,
            function_name=step.function_name or "",
            version=step.version or "",
            parameter_schema=json.loads(step.parameter_schema) if step.parameter_schema else None,
            deprecated=bool(step.is_deprecated),
        )


@dataclass(frozen=True)
class OutputData:
    """One WorkData a job wrote into one of its output data slots."""

    slot: str  # the output slot's name
    name: str  # the WorkData's name (as the platform holds it: not a safe file name)
    media_type: str | None
    size: int | None  # bytes
    url: str  # the WorkData itself
    download_url: str | None  # its content
    created_at: datetime | None = None


def outputs_of(item: JobItem) -> tuple[OutputData, ...]:
    """The WorkData in a job entity's output slots, slot by slot in index order."""
    found = []
    for slot in item.output_slots:
        for data in slot.entities:
            if data.self_href is None:
                raise ProtocolError("a WorkData in an output data slot has no self link")
            found.append(
                OutputData(
                    slot=slot.properties.name or "",
                    name=data.properties.name or "",
                    media_type=data.properties.media_type,
                    size=data.properties.size_in_bytes,
                    url=data.self_href,
                    download_url=data.download_href,
                    created_at=data.properties.created_at,
                )
            )
    return tuple(found)


@dataclass(frozen=True, slots=True)
class RemoteJob:
    """One job as read from a query page: everything plan, watch and report need.

    A command holds one per job of a batch (100,000 of them, say), so it has slots, and the
    texts its jobs share (tags but the key, state, spec, run) are held once (interned).
    """

    url: str
    name: str
    state: str  # a JobState value (a string: a platform may know states this client does not)
    tags: tuple[str, ...]
    result: str | None  # JSON text
    error: str | None
    created_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    key: str | None
    spec: str | None
    run: str | None
    attempt: int
    outputs: tuple[OutputData, ...] = ()  # the WorkData in its output slots
    parameters: str | None = None  # JSON text of the parameters it was configured with
    logs_url: str | None = None  # once a worker took it: what it printed and logged
    metrics_url: str | None = None  # and what it cost

    @property
    def finished(self) -> bool:
        """True once the job will not change any more (Completed, Error, Canceled, DataMissing)."""
        return self.state in FINISHED

    @classmethod
    def from_item(cls, item: JobItem) -> RemoteJob:
        job = item.properties
        if item.self_href is None:
            raise ClientException("a job on a query page has no self link")
        tags = tuple(map(sys.intern, job.tags or ()))
        values = dict(tag.split("=", 1) for tag in tags if "=" in tag)
        attempt = values.get(TAG_ATTEMPT, "1")
        spec, run = values.get(TAG_SPEC), values.get(TAG_RUN)
        return cls(
            url=item.self_href,
            name=job.name or "",
            state=sys.intern(job.state or "Undefined"),
            tags=tags,
            result=job.result,
            error=job.error_description,
            created_at=job.created_at,
            started_at=job.started_at,
            completed_at=job.completed_at,
            key=values.get(TAG_KEY),
            spec=None if spec is None else sys.intern(spec),
            run=None if run is None else sys.intern(run),
            attempt=int(attempt) if attempt.isdigit() else 1,
            outputs=outputs_of(item) if item.entities else (),
            parameters=job.configured_parameters,
            logs_url=item.logs_href,
            metrics_url=item.metrics_href,
        )
