"""Jobs and processing steps as the client hands them to the engine: plain frozen values."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from batchrun.client.wire import (
    ProtocolError,
    StepItem,
    classes,
    integer,
    link_hrefs,
    properties_of,
    sub_entities,
    text,
    texts,
    timestamp,
)
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


def outputs_of(job: dict[str, Any]) -> tuple[OutputData, ...]:
    """The WorkData in a job entity's output slots, slot by slot in index order."""
    found = []
    for slot in sub_entities(job):
        if "OutputDataSlot" not in classes(slot):
            continue
        slot_name = text(properties_of(slot), "Name") or ""
        for data in sub_entities(slot):
            links, properties = link_hrefs(data), properties_of(data)
            if "self" not in links:
                raise ProtocolError("a WorkData in an output data slot has no self link")
            found.append(
                OutputData(
                    slot=slot_name,
                    name=text(properties, "Name") or "",
                    media_type=text(properties, "MediaType"),
                    size=integer(properties, "SizeInBytes"),
                    url=links["self"],
                    download_url=links.get("Download"),
                    created_at=timestamp(properties, "CreatedAt"),
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
    def from_entity(cls, entity: dict[str, Any]) -> RemoteJob:
        """A job entity of a query page (read by :func:`batchrun.client.wire.item_page`)."""
        job, links = properties_of(entity), link_hrefs(entity)
        if "self" not in links:
            raise ProtocolError("a job on a query page has no self link")
        tags = tuple(map(sys.intern, texts(job, "Tags")))
        values = dict(tag.split("=", 1) for tag in tags if "=" in tag)
        attempt = values.get(TAG_ATTEMPT, "1")
        spec, run = values.get(TAG_SPEC), values.get(TAG_RUN)
        return cls(
            url=links["self"],
            name=text(job, "Name") or "",
            state=sys.intern(text(job, "State") or "Undefined"),
            tags=tags,
            result=text(job, "Result"),
            error=text(job, "ErrorDescription"),
            created_at=timestamp(job, "CreatedAt"),
            started_at=timestamp(job, "StartedAt"),
            completed_at=timestamp(job, "CompletedAt"),
            key=values.get(TAG_KEY),
            spec=None if spec is None else sys.intern(spec),
            run=None if run is None else sys.intern(run),
            attempt=int(attempt) if attempt.isdigit() else 1,
            outputs=outputs_of(entity) if "entities" in entity else (),
            parameters=text(job, "ConfiguredParameters"),
            logs_url=links.get("Logs"),
            metrics_url=links.get("Metrics"),
        )

