"""Jobs and processing steps as the client hands them to the engine: plain frozen values."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from batchrun.client.wire import (
    JobEntity,
    JobProperties,
    ProtocolError,
    StepItem,
    classes,
    integer,
    iso_time,
    link_hrefs,
    properties_of,
    sub_entities,
    text,
    timestamp,
)
from batchrun.identity import TAG_ATTEMPT, TAG_KEY, TAG_RUN, TAG_SPEC
from batchrun.immutable import immutable
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


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputData:
    """One WorkData a job wrote into one of its output data slots: in a job record, and as is
    in the report's row of its point (``report.ReportOutput``)."""

    slot: str  # the output slot's name
    name: str  # the WorkData's name (as the platform holds it: not a safe file name)
    media_type: str | None = None
    size: int | None = None  # bytes
    url: str  # the WorkData itself
    download_url: str | None = None  # its content
    created_at: datetime | None = None


def outputs_of(slots: list[Any]) -> tuple[OutputData, ...]:
    """The WorkData in a job entity's output slots (its sub-entities), slot by slot in index order."""
    found = []
    for slot in slots:
        if not isinstance(slot, dict) or "OutputDataSlot" not in classes(slot):
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


class MonitoringLinks:
    """``logs_url`` and ``metrics_url`` of a value that keeps a job's Logs and Metrics links as
    records keep them (by :func:`_below`: the path below the job's ``url``, or a URL): job
    records and report rows alike."""

    __slots__ = ()

    if TYPE_CHECKING:  # the fields of the dataclasses that take these properties
        url: str | None
        logs: str | None
        metrics: str | None

    @property
    def logs_url(self) -> str | None:
        return _link_url(self.url, self.logs)

    @property
    def metrics_url(self) -> str | None:
        return _link_url(self.url, self.metrics)


def _link_url(url: str | None, link: str | None) -> str | None:
    if link is None or url is None or not link.startswith("/"):
        return link
    return url + link


@immutable
class RemoteJob(MonitoringLinks):
    """One job as read from a query page: everything plan, watch and report need.

    A command holds one per job of a batch (100,000 of them, say), so it has slots and holds
    each text once: the point's key and spec as values (not also as the tags they came from),
    the tags its jobs share as one tuple for all of them (:func:`_shared_tags`), the state and
    run interned, and its Logs and Metrics links as the path below its URL that they share
    with every other job (``/Logs``) when they are there, as on the local JMA.
    """

    url: str
    name: str
    state: str  # a JobState value (a string: a platform may know states this client does not)
    other_tags: tuple[str, ...]  # every tag but the point's key and spec (see ``tags``)
    result: str | None  # JSON text
    error: str | None
    created_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    key: str | None  # the batchrun.key tag's value
    spec: str | None  # the batchrun.spec tag's value
    run: str | None
    attempt: int
    outputs: tuple[OutputData, ...] = ()  # the WorkData in its output slots
    parameters: str | None = None  # JSON text of the parameters it was configured with
    logs: str | None = None  # once a worker took it, what it printed and logged (see logs_url)
    metrics: str | None = None  # and what it cost: a path below ``url`` or an absolute URL

    @property
    def tags(self) -> tuple[str, ...]:
        """Every tag of the job (its key and spec tags last)."""
        own = ((TAG_KEY, self.key), (TAG_SPEC, self.spec))
        return (*self.other_tags, *(f"{name}={value}" for name, value in own if value is not None))

    @property
    def finished(self) -> bool:
        """True once the job will not change any more (Completed, Error, Canceled, DataMissing)."""
        return self.state in FINISHED

    @classmethod
    def from_entity(cls, entity: JobEntity) -> RemoteJob:
        """A job entity of a query page, its shape checked by :func:`batchrun.client.wire.job_page`."""
        job = entity.get("properties") or _NO_PROPERTIES
        links: dict[str, str] = {}
        for link in entity.get("links") or ():
            for rel in link.get("rel") or ():
                links.setdefault(rel, link["href"])
        url = links.get("self")
        if url is None:
            raise ProtocolError("a job on a query page has no self link")
        key = spec = None
        others = []
        for tag in job.get("Tags") or ():
            if tag.startswith(_KEY_TAG):
                key = tag[len(_KEY_TAG):]
            elif tag.startswith(_SPEC_TAG):
                spec = tag[len(_SPEC_TAG):]
            else:
                others.append(tag)
        shared = _shared_tags(tuple(others))
        return cls(
            url=url,
            name=job.get("Name") or "",
            state=sys.intern(job.get("State") or "Undefined"),
            other_tags=shared.tags,
            result=_shared(job.get("Result")),
            error=job.get("ErrorDescription"),
            created_at=iso_time(job.get("CreatedAt"), "CreatedAt"),
            started_at=iso_time(job.get("StartedAt"), "StartedAt"),
            completed_at=iso_time(job.get("CompletedAt"), "CompletedAt"),
            key=key,
            spec=spec,
            run=shared.run,
            attempt=shared.attempt,
            outputs=outputs_of(slots) if (slots := entity.get("entities")) else (),
            parameters=job.get("ConfiguredParameters"),
            logs=_below(url, links.get("Logs")),
            metrics=_below(url, links.get("Metrics")),
        )


_NO_PROPERTIES: JobProperties = {}


@dataclass(frozen=True, slots=True)
class _SharedTags:
    """Tags that many jobs have alike (batch, run, attempt) and what they say, read once."""

    tags: tuple[str, ...]
    run: str | None
    attempt: int


def _shared_tags(tags: tuple[str, ...]) -> _SharedTags:
    """``tags`` as the one tuple every job with the same tags holds. At most ``_SHARED_KEPT``
    sets are remembered: tags made per point (a templated tag) would only fill the memo."""
    known = _SHARED.get(tags)
    if known is None:
        values = dict(tag.split("=", 1) for tag in tags if "=" in tag)
        attempt, run = values.get(TAG_ATTEMPT, "1"), values.get(TAG_RUN)
        known = _SharedTags(
            tuple(map(sys.intern, tags)),
            None if run is None else sys.intern(run),
            int(attempt) if attempt.isdigit() else 1,
        )
        if len(_SHARED) < _SHARED_KEPT:
            _SHARED[tags] = known
    return known


_SHARED: dict[tuple[str, ...], _SharedTags] = {}
_SHARED_KEPT = 10_000
_KEY_TAG, _SPEC_TAG = f"{TAG_KEY}=", f"{TAG_SPEC}="
_LITERALS = {literal: literal for literal in ("null", "true", "false")}


def _shared(result: str | None) -> str | None:
    """A result held once when it is a JSON literal (a step that returns None: ``null``)."""
    return None if result is None else _LITERALS.get(result, result)


def _below(url: str, href: str | None) -> str | None:
    """``href`` as the path below ``url`` it is (shared by every job: interned), else absolute."""
    if href is None:
        return None
    if href.startswith(url) and href.startswith("/", len(url)):
        return sys.intern(href[len(url):])
    return urljoin(url, href)
