"""The platform boundary: the ONLY module that imports pinexq-client.

A ``Platform`` reads the entry point and the roots once (a client tool object re-enters
the API, 4 GETs, for every job). An apply then costs one RapidSetupJob POST per job plus
paged tag queries (1000 jobs a page) that carry every state and result. Those hot paths
send and read their JSON through ``batchrun.wire``; the client's exceptions and problem
details type every failure, and its HCO layer does the rare multi-step changes (start a
created job, delete a job with its data). That layer is imported on first use: building
its generated models takes 0.3 s, which every command would otherwise pay at start-up.

Reads retry transient failures (connection errors, timeouts, 429 and 5xx answers) with
exponential backoff and jitter, honouring ``Retry-After``. Once connected, an outage
(refused or dropped connections, timeouts, 502/503/504) is retried for ``patience``
seconds rather than a few attempts, so a platform that restarts is ridden out; the first
connection still fails fast, so a mistyped endpoint is reported at once. Creating a job is never retried
once the request may have reached the server: such a failure raises ``CreateUncertain``,
and the caller looks the point's key tag up (``jobs_with_key``) before creating it again.
Every failure surfaces as a ``PlatformError`` whose message names the endpoint and never
contains the API key.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

import httpx
from pinexq.client.core import (
    ApiException,
    ClientException,
    Link,
    MediaTypes,
    handle_error_response,
    raise_exception_on_error,
)
from pydantic import ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    wait_exponential_jitter,
)

from batchrun.errors import PlatformError, UsageError
from batchrun.identity import TAG_ATTEMPT, TAG_BATCH, TAG_KEY, TAG_RUN, TAG_SPEC
from batchrun.jobevents import JobEventStream
from batchrun.wire import (
    ENTRY_POINT,
    Entity,
    ItemT,
    JobItem,
    JobPage,
    Page,
    ProtocolError,
    StepItem,
    StepPage,
    job_query_body,
    rapid_setup_body,
    step_query_body,
)
from batchrun.states import FINISHED, STARTED

if TYPE_CHECKING:
    from pinexq.client.job_management import JobHco

EVENT_LOG_PATH = "/api/EventLog"  # batchrun's local JMA only (see batchrun.localjma.http.routes.eventlog)

__all__ = [
    "PAGE_SIZE",
    "CreateUncertain",
    "JobEventStream",
    "Platform",
    "PlatformUnreachable",
    "RemoteJob",
    "StepInfo",
]

T = TypeVar("T")

PAGE_SIZE = 1000
RETRY_AFTER_MAX = 60.0
MAX_SUBJOB_DEPTH = 20
MESSAGE_LIMIT = 300
# Queries ask for their first page in the 201 answer (RFC 7240); a server that does not
# honour it answers with only a Location, which is then read as usual.
QUERY_HEADERS = {"Content-Type": "application/json", "Prefer": "return=representation"}
CREATE_HEADERS = {"Content-Type": "application/json"}
OUTAGE_STATUSES = frozenset({502, 503, 504})  # a gateway or server that is not there right now
# What the client raises when a request fails or an answer does not fit the protocol.
FAILURES = (ApiException, ClientException, httpx.HTTPError, ValidationError, ProtocolError)


class CreateUncertain(PlatformError):
    """A create request may or may not have reached the server (timeout, reset, 5xx).

    Never retry it blindly: query the point's key tag first and create only when no job
    carries it.
    """


class PlatformUnreachable(PlatformError):
    """The platform stayed unreachable (refused, timeouts, 502/503/504) through every retry.

    Not a problem of one request: whoever gets it should stop the whole run.
    """


@dataclass(frozen=True)
class StepInfo:
    """A processing step as resolved on the platform."""

    url: str
    function_name: str
    version: str
    parameter_schema: dict | None


@dataclass(frozen=True)
class RemoteJob:
    """One job as read from a query page: everything plan, watch and report need."""

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

    @property
    def finished(self) -> bool:
        """True once the job will not change any more (Completed, Error, Canceled, DataMissing)."""
        return self.state in FINISHED

    @classmethod
    def from_item(cls, item: JobItem) -> RemoteJob:
        job = item.properties
        if item.self_href is None:
            raise ClientException("a job on a query page has no self link")
        tags = tuple(job.tags or ())
        values = dict(tag.split("=", 1) for tag in tags if "=" in tag)
        attempt = values.get(TAG_ATTEMPT, "1")
        return cls(
            url=item.self_href,
            name=job.name or "",
            state=job.state or "Undefined",
            tags=tags,
            result=job.result,
            error=job.error_description,
            created_at=job.created_at,
            started_at=job.started_at,
            completed_at=job.completed_at,
            key=values.get(TAG_KEY),
            spec=values.get(TAG_SPEC),
            run=values.get(TAG_RUN),
            attempt=int(attempt) if attempt.isdigit() else 1,
        )


class _LastResponse(threading.local):
    """Status and Retry-After of the last answer on this thread.

    The client turns error answers into exceptions without the response headers; an
    httpx response hook keeps what the retry policy needs.
    """

    status: int | None = None
    retry_after: float | None = None


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(moment.tzinfo)).total_seconds())


def _is_transport(error: BaseException) -> bool:
    return isinstance(error, httpx.TransportError) or (
        isinstance(error, ClientException) and isinstance(error.__cause__, httpx.TransportError)
    )


def _never_sent(error: BaseException) -> bool:
    """A connection that was never established: the request cannot have been processed."""
    cause = error.__cause__ if isinstance(error, ClientException) else error
    return isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout))


class Platform:
    """A connection to one Job-Management API, shared by the threads of a command."""

    def __init__(
        self,
        endpoint: str,
        api_key: str | None,
        *,
        timeout: float = 30.0,
        attempts: int = 5,
        patience: float | None = None,
    ) -> None:
        url = httpx.URL(endpoint.rstrip("/"))
        self.endpoint = str(url.copy_with(userinfo=b""))  # what messages show: never credentials
        self._secrets = [secret for secret in (api_key, url.password) if secret]
        self._attempts = attempts
        self._patience: float | None = None  # off until connected
        self._last = _LastResponse()
        self._client = httpx.Client(
            base_url=url,
            headers={"x-api-key": api_key} if api_key else {},
            timeout=timeout,
            event_hooks={"response": [self._remember]},
        )
        try:
            self._info_href, jobs_root, steps_root = self._read(
                "connecting",
                lambda: self._entity(ENTRY_POINT).link_hrefs("Info", "JobsRoot", "ProcessingStepsRoot"),
            )
            self._create_href, self._query_href = self._read(
                "reading the jobs root",
                lambda: self._entity(jobs_root).action_hrefs("RapidSetupJob", "CreateJobQuery"),
            )
            (self._steps_query_href,) = self._read(
                "reading the processing steps root",
                lambda: self._entity(steps_root).action_hrefs("CreateProcessingStepQuery"),
            )
        except BaseException:
            self._client.close()
            raise
        self._patience = patience

    def __enter__(self) -> Platform:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Platform({self.endpoint!r})"

    def close(self) -> None:
        self._client.close()

    # -- steps -------------------------------------------------------------------------

    def resolve_step(self, function: str, version: str | None) -> StepInfo:
        """Find the step a manifest names; without a version exactly one usable one must exist."""
        body = step_query_body(page_size=PAGE_SIZE, function_name=function)
        steps = self._query_items(StepPage, self._steps_query_href, body, f"looking up step {function!r}")
        if version is not None:
            exact = [step for step in steps if step.properties.version == version]
            if exact:
                return _step_info(exact[0])
            raise UsageError(
                f"step {function}@{version} is not registered at {self.endpoint}; "
                f"{_versions_hint(function, steps)}"
            )
        usable = [step for step in steps if not step.properties.is_deprecated and not _prerelease(step)]
        if len(usable) == 1:
            return _step_info(usable[0])
        if not usable:
            raise UsageError(
                f"no usable version of step {function!r} at {self.endpoint} "
                f"(deprecated and prerelease versions are not picked automatically); "
                f"{_versions_hint(function, steps)}"
            )
        raise UsageError(
            f"step {function!r} has several versions at {self.endpoint} "
            f"({', '.join(step.properties.version or '?' for step in usable)}); "
            f"pin one with step.version in the manifest or --set step.version=VERSION"
        )

    # -- reading jobs --------------------------------------------------------------------

    def owned_jobs(
        self, batch: str, *, run: str | None = None, created_after: datetime | None = None
    ) -> list[RemoteJob]:
        """Every job tagged with the batch (and run), oldest first, from paged queries.

        ``created_after`` reads only the jobs created later (the platform's clock): a watcher
        that knows older jobs are finished re-reads a page or two instead of the whole run.
        """
        tags = [f"{TAG_BATCH}={batch}"] + ([f"{TAG_RUN}={run}"] if run is not None else [])
        query = job_query_body(page_size=PAGE_SIZE, tags_by_and=tags, created_after=created_after)
        return self._query_jobs(query, f"listing batch {batch!r}")

    def jobs_with_key(self, batch: str, key: str, run: str) -> list[RemoteJob]:
        """The jobs (attempts) of one point: what a create left behind, if anything."""
        tags = [f"{TAG_BATCH}={batch}", f"{TAG_KEY}={key}", f"{TAG_RUN}={run}"]
        query = job_query_body(page_size=PAGE_SIZE, tags_by_and=tags)
        return self._query_jobs(query, f"looking up key {key}")

    def _query_jobs(self, query: str, what: str) -> list[RemoteJob]:
        """Every job a query finds (its JSON body)."""
        jobs: dict[str, RemoteJob] = {}
        for item in self._query_items(JobPage, self._query_href, query, what):
            job = RemoteJob.from_item(item)
            jobs[job.url] = job  # offset paging may repeat a job when others are added
        return list(jobs.values())

    def _query_items(self, kind: type[Page[ItemT]], href: str, query: str, what: str) -> list[ItemT]:
        """The items of every page a query (its JSON body) finds; each page read is retried."""
        page: Page[ItemT] | None = self._read(
            what, lambda: kind.model_validate_json(self._query(href, query))
        )
        items: list[ItemT] = []
        while page is not None:
            items += page.items
            following = page.next_href
            page = (
                None
                if following is None
                else self._read(what, lambda: kind.model_validate_json(self._get(following)))
            )
        return items

    # -- raw requests (the hot paths skip the client's entity objects) ------------------------

    def _query(self, href: str, query: str) -> bytes:
        """POST a query and return its first page: from the 201 answer when the server honours
        ``Prefer: return=representation``, else from a GET of its Location."""
        response = self._client.post(href, content=query, headers=QUERY_HEADERS)
        location = self._created(response)
        if response.headers.get("Preference-Applied", "").lower() == "return=representation":
            return response.content
        return self._get(location)

    def _get(self, href: str) -> bytes:
        response = self._client.get(href)
        _raise_for_problem(response)
        if response.status_code != 200:
            raise ClientException(f"GET {href} answered HTTP {response.status_code}, not 200")
        return response.content

    def _entity(self, href: str) -> Entity:
        """A resource, for the hrefs of its links and actions."""
        return Entity.model_validate_json(self._get(href))

    def _created(self, response: httpx.Response) -> str:
        """The Location of a 201 answer; error answers raise the client's exceptions."""
        _raise_for_problem(response)
        location = response.headers.get("Location")
        if response.status_code != 201 or not location:
            raise ClientException(
                f"{response.request.method} {response.request.url} answered HTTP "
                f"{response.status_code} without a Location, not 201 Created"
            )
        if location.startswith(("http://", "https://")):
            return location  # absolute already (joining costs ~40 µs per create)
        return str(self._client.base_url.join(location))

    # -- changing jobs ---------------------------------------------------------------------

    def create_job(
        self,
        *,
        name: str,
        step: StepInfo,
        parameters: dict,
        tags: Sequence[str],
        start: bool = True,
    ) -> str:
        """Create (and by default start) a job with ONE RapidSetupJob request; return its URL.

        Retried only when the request certainly did not reach the server (connection
        refused, 429); otherwise ``CreateUncertain``.
        """
        body = rapid_setup_body(name=name, step_url=step.url, tags=tags, parameters=parameters, start=start)

        def create() -> str:
            return self._created(self._client.post(self._create_href, content=body, headers=CREATE_HEADERS))

        try:
            return self._retrying(self._create_may_retry)(create)
        except FAILURES as error:
            if (_is_transport(error) and not _never_sent(error)) or self._status(error, 0) >= 500:
                raise CreateUncertain(self._describe(f"creating job {name!r}", error)) from error
            raise self._error(f"creating job {name!r}", error) from error

    def start_job(self, url: str) -> None:
        """Start a created job; a job that already started is left alone (safe to repeat)."""

        def start() -> None:
            job = self._job(url)
            if job is None:
                raise PlatformError(f"job {url} no longer exists")
            if job.state.value in STARTED:
                return
            if not job.start_processing_action.is_available():
                raise PlatformError(
                    f"job {job.name!r} ({url}) cannot be started while it is {job.state.value}"
                )
            job.start_processing_action.execute()

        self._read(f"starting job {url}", start)

    def event_log(self, resource_id: str | None = None, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """A page of the local JMA's event log (oldest first, after sequence number ``after``),
        of one job or WorkData, or of everything; deleted jobs' events are kept there.

        Only batchrun's local JMA keeps one: other endpoints answer 404, said so plainly.
        """
        query = {"after": after, "limit": limit, **({"resource": resource_id} if resource_id else {})}
        href = f"{EVENT_LOG_PATH}?{urlencode(query)}"
        try:
            document = self._read("reading the event log", lambda: json.loads(self._get(href)))
        except PlatformError as error:
            if self._status(error.__cause__ or error, 0) == 404:
                raise PlatformError(
                    f"{self.endpoint} keeps no event log: only batchrun's local JMA (batchrun serve) "
                    f"serves {EVENT_LOG_PATH}"
                ) from None
            raise
        return list(document["events"])

    def delete_job(
        self,
        url: str,
        *,
        delete_output_workdata: bool,
        delete_input_workdata: bool,
        delete_subjobs_with_data: bool,
    ) -> None:
        """Delete a job like ``delete_with_associated``: sub-jobs and outputs first, per the flags.

        A job that is already gone counts as deleted, so a repeated destroy converges.
        """
        self._delete_tree(
            url,
            outputs=delete_output_workdata,
            inputs=delete_input_workdata,
            subjobs=delete_subjobs_with_data,
            depth=0,
        )

    def _delete_tree(self, url: str, *, outputs: bool, inputs: bool, subjobs: bool, depth: int) -> None:
        what = f"deleting job {url}"
        job = self._read(what, lambda: self._job(url))
        if job is None:
            return
        if subjobs and depth < MAX_SUBJOB_DEPTH:
            children = job_query_body(page_size=PAGE_SIZE, is_sub_job=True, parent_job_url=url)
            for child in self._query_jobs(children, f"listing the sub-jobs of {url}"):
                self._delete_tree(child.url, outputs=outputs, inputs=inputs, subjobs=subjobs, depth=depth + 1)
        produced = [data for slot in job.output_dataslots for data in slot.assigned_workdatas]
        if outputs and produced:
            if job.allow_output_data_deletion_action.is_available():
                self._read(what, job.allow_output_data_deletion_action.execute)
            for data in produced:
                self._delete_workdata(str(data.self_link.get_url()), what)
        job = self._read(what, lambda: self._job(url))
        if job is None:
            return
        if not job.delete_action.is_available():
            raise PlatformError(
                f"job {job.name!r} ({url}) cannot be deleted while it is {job.state.value}"
                + (" and still has output data" if produced and not outputs else "")
                + "; wait for it to finish or delete it on the platform"
            )
        self._read(what, lambda: self._gone_is_fine(job.delete_action.execute))
        if inputs:
            for slot in job.input_dataslots:
                for data in slot.selected_workdatas:
                    self._delete_workdata(str(data.self_link.get_url()), what)

    def _delete_workdata(self, url: str, what: str) -> None:
        from pinexq.client.job_management.hcos.workdata_hco import WorkDataLink  # first use: see the module docstring

        def delete() -> None:
            link = WorkDataLink.from_link(self._client, _link(url))
            data = self._gone_is_fine(link.navigate)
            if data is not None and data.delete_action.is_available():
                self._gone_is_fine(data.delete_action.execute)

        self._read(what, delete)

    def _job(self, url: str) -> JobHco | None:
        from pinexq.client.job_management import JobLink  # first use: see the module docstring

        return self._gone_is_fine(JobLink.from_link(self._client, _link(url)).navigate)

    def _gone_is_fine(self, call: Callable[[], T]) -> T | None:
        """Run ``call``; a 404 (the resource is already gone) gives None instead of an error."""
        try:
            return call()
        except ApiException as error:
            if self._status(error, 0) == 404:
                return None
            raise

    # -- events ----------------------------------------------------------------------------

    @contextmanager
    def job_events(self) -> Iterator[JobEventStream]:
        """One SSE connection announcing job changes; a wake-up signal, not a source of truth."""
        (events,) = self._read(
            "reading the API info", lambda: self._entity(self._info_href).link_hrefs("ApiEventsEndpoint")
        )
        url = self._client.base_url.join(events)
        with JobEventStream(str(url), self._client) as stream:
            yield stream

    # -- retries and errors ----------------------------------------------------------------

    def _remember(self, response: httpx.Response) -> None:
        self._last.status = response.status_code
        self._last.retry_after = (
            _retry_after_seconds(response.headers.get("Retry-After"))
            if response.status_code in (429, 503)
            else None
        )

    def _status(self, error: BaseException, default: int) -> int:
        """The HTTP status behind a client exception (the problem body, else the last answer)."""
        if isinstance(error, ApiException):
            details = error.problem_details
            if details is not None and details.status:
                return details.status
            if self._last.status is not None and self._last.status >= 400:
                return self._last.status
        return default

    def _transient(self, error: BaseException) -> bool:
        if _is_transport(error):
            return True
        status = self._status(error, 0)
        return status == 429 or status >= 500

    def _outage(self, error: BaseException) -> bool:
        return _is_transport(error) or self._status(error, 0) in OUTAGE_STATUSES

    def _give_up(self, state: RetryCallState) -> bool:
        """Stop after ``attempts`` tries; during an outage, only once ``patience`` has passed."""
        error = state.outcome.exception() if state.outcome is not None else None
        if self._patience and error is not None and self._outage(error):
            return (state.seconds_since_start or 0.0) >= self._patience
        return state.attempt_number >= self._attempts

    def _create_may_retry(self, error: BaseException) -> bool:
        return _never_sent(error) or self._status(error, 0) == 429

    def _wait(self, state: RetryCallState) -> float:
        after = self._last.retry_after
        if after is not None:
            self._last.retry_after = None
            return min(after, RETRY_AFTER_MAX)
        return self._backoff(state)

    _backoff = wait_exponential_jitter(multiplier=0.2, max=5.0, jitter=0.5)

    def _retrying(self, retry_when: Callable[[BaseException], bool]) -> Retrying:
        return Retrying(
            retry=retry_if_exception(retry_when),
            wait=self._wait,
            stop=self._give_up,
            reraise=True,
        )

    def _read(self, what: str, call: Callable[[], T]) -> T:
        """Run a read (or an idempotent change) with retries; failures become PlatformError."""
        try:
            return self._retrying(self._transient)(call)
        except FAILURES as error:
            raise self._error(what, error) from error

    def _error(self, what: str, error: BaseException) -> PlatformError:
        kind = PlatformUnreachable if self._outage(error) else PlatformError
        return kind(self._describe(what, error))

    def _describe(self, what: str, error: BaseException) -> str:
        if _is_transport(error):
            cause = error.__cause__ if isinstance(error, ClientException) else error
            text = (
                f"{what}: cannot reach the platform at {self.endpoint} "
                f"({type(cause).__name__}); check the endpoint and that the server is running"
            )
        elif isinstance(error, ApiException) and error.problem_details is not None:
            details = error.problem_details
            reason = ": ".join(part for part in (details.title, details.detail) if part)
            text = f"{what}: the platform at {self.endpoint} answered HTTP {details.status}: {reason}"
            if details.status == 401:
                text += " (check the API key: --api-key or PINEXQ_API_KEY)"
        elif isinstance(error, ApiException) and self._status(error, 0) >= 400:
            text = f"{what}: the platform at {self.endpoint} answered HTTP {self._status(error, 0)}"
        else:
            message = " ".join((getattr(error, "message", None) or str(error)).split())
            text = (
                f"{what}: unexpected answer from the platform at {self.endpoint}: "
                f"{message[:MESSAGE_LIMIT]}; is this a PineXQ Job-Management API?"
            )
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _raise_for_problem(response: httpx.Response) -> None:
    """Turn an error answer into the client's exception (ProblemDetails kept for messages)."""
    if response.status_code >= 400:
        raise_exception_on_error(
            f"{response.request.method} {response.request.url} failed",
            handle_error_response(response),
        )


def _link(url: str) -> Link:
    return Link.from_url(httpx.URL(url), ["self"], "", MediaTypes.SIREN)


def _step_info(step: StepItem) -> StepInfo:
    if step.self_href is None:
        raise ProtocolError("a processing step on a query page has no self link")
    found = step.properties
    return StepInfo(
        url=step.self_href,
        function_name=found.function_name or "",
        version=found.version or "",
        parameter_schema=json.loads(found.parameter_schema) if found.parameter_schema else None,
    )


def _prerelease(step: StepItem) -> bool:
    return "-" in (step.properties.version or "").split("+", 1)[0]


def _versions_hint(function: str, steps: list[StepItem]) -> str:
    if not steps:
        return f"no step named {function!r} is registered (check step.function or local.steps)"
    labels = [
        (step.properties.version or "?") + (" (deprecated)" if step.properties.is_deprecated else "")
        for step in steps
    ]
    return f"available versions: {', '.join(labels)}"
