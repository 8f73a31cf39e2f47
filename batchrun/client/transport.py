"""The connection to one Job-Management API: requests, paging and retries.

A ``Platform`` reads the entry point and the roots once (a client tool object re-enters
the API, 4 GETs, for every job). An apply then costs one RapidSetupJob POST per job plus
paged tag queries (1000 jobs a page) that carry every state and result. Those hot paths
send and read their JSON through :mod:`batchrun.client.wire`; the client's exceptions and
problem details type every failure, and its HCO layer does the rare multi-step changes
(start a created job; :mod:`batchrun.client.deletion` deletes a job with its data). That
layer is imported on first use: building its generated models is slow, and every command
would otherwise pay for it at start-up.

Every request goes through the :class:`~batchrun.client.retry.RetryPolicy`; the first
connection gets no outage patience, so a mistyped endpoint is reported at once. Creating
a job is never retried once the request may have reached the server: such a failure
raises ``CreateUncertain``, and the caller looks the point's key tag up
(``jobs_with_key``) before creating it again. Every failure surfaces as a
``PlatformError`` whose message names the endpoint and never contains the API key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

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
from tenacity import RetryCallState, Retrying, retry_if_exception

from batchrun.client.events import JobEventStream
from batchrun.client.pools import ShardedTransport
from batchrun.client.records import RemoteJob, StepInfo
from batchrun.client.retry import Failure, RetryPolicy, retry_after_seconds
from batchrun.client.wire import (
    ENTRY_POINT,
    READ_ONLY_ITEMS,
    Entity,
    PageT,
    ProtocolError,
    StepPage,
    job_page,
    job_query_body,
    rapid_setup_body,
    step_query_body,
)
from batchrun.collector import paused
from batchrun.errors import PlatformError
from batchrun.identity import TAG_BATCH, TAG_KEY, TAG_RUN
from batchrun.states import STARTED

if TYPE_CHECKING:
    from pinexq.client.job_management import JobHco
    from pinexq.client.job_management.hcos.folderroot_hco import FolderRootHco
    from pinexq.client.job_management.hcos.workdata_hco import WorkDataHco

T = TypeVar("T")

PAGE_SIZE = 1000
DOWNLOAD_CHUNK = 1 << 20  # bytes a streamed download hands over at a time
MESSAGE_LIMIT = 300
# Queries ask for their first page in the 201 answer, and every page's items without
# actions, which batchrun never uses (RFC 7240 preferences); a server that does not
# honour them answers with only a Location, which is then read as usual, and full items.
PAGE_HEADERS = {"Prefer": READ_ONLY_ITEMS}
QUERY_HEADERS = {"Content-Type": "application/json", "Prefer": f"return=representation, {READ_ONLY_ITEMS}"}
CREATE_HEADERS = {"Content-Type": "application/json"}
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


class _LastResponse(threading.local):
    """Status and Retry-After of the last answer on this thread.

    The client turns error answers into exceptions without the response headers; an
    httpx response hook keeps what the retry policy needs.
    """

    status: int | None = None
    retry_after: float | None = None


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
        self._policy = RetryPolicy(attempts)  # no outage patience until connected
        self._last = _LastResponse()
        self._client = httpx.Client(
            base_url=url,
            headers={"x-api-key": api_key} if api_key else {},
            timeout=timeout,
            # The callers bound the requests in flight (execution.submit threads, one query, one
            # event stream); a keep-alive pool smaller than that (httpx keeps 20) would close and
            # reopen connections all the time, a TLS handshake each against a remote platform.
            transport=ShardedTransport(httpx.Limits(max_connections=None, max_keepalive_connections=None)),
            event_hooks={"response": [self._remember]},
        )
        try:
            self._info_href, jobs_root, steps_root = self.read(
                "connecting",
                lambda: self._entity(ENTRY_POINT).link_hrefs("Info", "JobsRoot", "ProcessingStepsRoot"),
            )
            self._create_href, self._query_href = self.read(
                "reading the jobs root",
                lambda: self._entity(jobs_root).action_hrefs("RapidSetupJob", "CreateJobQuery"),
            )
            (self._steps_query_href,) = self.read(
                "reading the processing steps root",
                lambda: self._entity(steps_root).action_hrefs("CreateProcessingStepQuery"),
            )
        except BaseException:
            self._client.close()
            raise
        self._policy = replace(self._policy, patience=patience)

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

    # -- queries ---------------------------------------------------------------------------

    def steps_named(self, function: str) -> list[StepInfo]:
        """Every registered version of the step ``function``, newest first."""
        body = step_query_body(page_size=PAGE_SIZE, function_name=function)
        what = f"looking up step {function!r}"
        pages = self.query_pages(StepPage.model_validate_json, self._steps_query_href, body, what)
        return [StepInfo.from_item(item) for page in pages for item in page.items]

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

    def sub_jobs(self, url: str) -> list[RemoteJob]:
        """The jobs the job at ``url`` started."""
        query = job_query_body(page_size=PAGE_SIZE, is_sub_job=True, parent_job_url=url)
        return self._query_jobs(query, f"listing the sub-jobs of {url}")

    def _query_jobs(self, query: str, what: str) -> list[RemoteJob]:
        """Every job a query finds (its JSON body), each page made into records before the
        next is read: only the records are held, never the pages' entities. The collector
        pauses meanwhile: it would walk the records of the earlier pages again and again."""
        jobs: dict[str, RemoteJob] = {}
        with paused():
            for page in self.query_pages(job_page, self._query_href, query, what):
                for item in page.items:
                    job = RemoteJob.from_entity(item)
                    jobs[job.url] = job  # offset paging may repeat a job when others are added
                del page  # its entities go before the next page is parsed
        return list(jobs.values())

    def query_pages(self, parse: Callable[[bytes], PageT], href: str, query: str, what: str) -> Iterator[PageT]:
        """Every page a query (its JSON body) finds, each read by ``parse``, following ``next``;
        each read is retried.

        The next page is requested as soon as this one's link is known, so the server
        answers it while the caller takes this one in."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="batchrun-page") as reader:

            def fetch(following: str) -> Future[Fetched]:
                return reader.submit(self.read, what, partial(self._page, following))

            coming: Future[Fetched] | None = reader.submit(self.read, what, lambda: self._query(href, query))
            while coming is not None:
                fetched = coming.result()
                # A next page named in a header is asked for before this one is parsed.
                coming = None if fetched.next_href is None else fetch(fetched.next_href)
                page = self.read(what, partial(parse, fetched.body))
                if fetched.next_href is None and page.next_href is not None:
                    coming = fetch(page.next_href)
                yield page
                del page, fetched  # not held while the next page is parsed: only one page at a time

    # -- raw requests (the hot paths skip the client's entity objects) ------------------------

    def get(self, href: str, headers: dict[str, str] | None = None) -> bytes:
        """The body of a GET of ``href`` (relative to the endpoint, or absolute); error answers
        raise the client's exceptions. Not retried: wrap it in :meth:`read`."""
        with self._client.stream("GET", href, headers=headers) as response:
            return _body(response)

    def _page(self, href: str) -> Fetched:
        """A query page, and its next page when the server names it in a header."""
        with self._client.stream("GET", href, headers=PAGE_HEADERS) as response:
            return Fetched(_body(response), _next_link(response))

    @contextmanager
    def download(self, href: str, *, chunk_size: int = DOWNLOAD_CHUNK) -> Iterator[Iterator[bytes]]:
        """Stream the content at ``href`` (a WorkData's Download link) in chunks, never
        holding it whole; error answers raise the client's exceptions. Not retried: a
        caller that retries starts its file over (wrap the whole copy in :meth:`read`)."""
        with self._client.stream("GET", href) as response:
            _expect_200(response)
            yield response.iter_bytes(chunk_size)

    def _query(self, href: str, query: str) -> Fetched:
        """POST a query and return its first page: from the 201 answer when the server honours
        ``Prefer: return=representation``, else from a GET of its Location."""
        response = self._client.post(href, content=query, headers=QUERY_HEADERS)
        location = self._created(response)
        if "return=representation" in response.headers.get("Preference-Applied", "").lower():
            return Fetched(response.content, _next_link(response))
        return self._page(location)

    def _entity(self, href: str) -> Entity:
        """A resource, for the hrefs of its links and actions."""
        return Entity.model_validate_json(self.get(href))

    def _created(self, response: httpx.Response) -> str:
        """The Location of a 201 answer; error answers raise the client's exceptions."""
        _raise_for_problem(response)
        location: str | None = response.headers.get("Location")
        if response.status_code != 201 or not location:
            raise ClientException(
                f"{response.request.method} {response.request.url} answered HTTP "
                f"{response.status_code} without a Location, not 201 Created"
            )
        if location.startswith(("http://", "https://")):
            return location  # absolute already: joining would only cost time on every create
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
        inputs: Sequence[tuple[int, Sequence[str]]] = (),
    ) -> str:
        """Create (and by default start) a job with ONE RapidSetupJob request, its input slots
        (``inputs``: slot index and WorkData URLs) filled in the same request; return its URL.

        Retried only when the request certainly did not reach the server (connection
        refused, 429); otherwise ``CreateUncertain``.
        """
        body = rapid_setup_body(
            name=name, step_url=step.url, tags=tags, parameters=parameters, start=start, inputs=inputs
        )

        def create() -> str:
            return self._created(self._client.post(self._create_href, content=body, headers=CREATE_HEADERS))

        try:
            return self._retrying(lambda error: self.failure(error).create_may_retry)(create)
        except FAILURES as error:
            if self.failure(error).create_uncertain:
                raise CreateUncertain(self._describe(f"creating job {name!r}", error)) from error
            raise self._error(f"creating job {name!r}", error) from error

    def start_job(self, url: str) -> None:
        """Start a created job; a job that already started is left alone (safe to repeat)."""

        def start() -> None:
            job = self.job(url)
            if job is None:
                raise PlatformError(f"job {url} no longer exists")
            if job.state.value in STARTED:
                return
            if not job.start_processing_action.is_available():
                raise PlatformError(
                    f"job {job.name!r} ({url}) cannot be started while it is {job.state.value}"
                )
            job.start_processing_action.execute()

        self.read(f"starting job {url}", start)

    # -- the client's HCO layer (imported on first use: see the module docstring) -----------

    def job(self, url: str) -> JobHco | None:
        """The job at ``url`` as the client's tool object; None when it is gone. Not retried."""
        from pinexq.client.job_management import JobLink

        return self.gone_is_fine(JobLink.from_link(self._client, _link(url)).navigate)

    def folder_root(self) -> FolderRootHco:
        """The FolderRoot as the client's tool object; a platform without one is a PlatformError."""
        from pinexq.client.core.hco.unavailable import UnavailableLink
        from pinexq.client.job_management.enterjma import enter_jma

        link = enter_jma(self._client).folder_root_link
        if isinstance(link, UnavailableLink):
            raise PlatformError(f"{self.endpoint} has no folders (no FolderRoot link); leave 'folder' out")
        return link.navigate()

    def workdata(self, url: str) -> WorkDataHco | None:
        """The WorkData at ``url`` as the client's tool object; None when it is gone. Not retried."""
        from pinexq.client.job_management.hcos.workdata_hco import WorkDataLink

        return self.gone_is_fine(WorkDataLink.from_link(self._client, _link(url)).navigate)

    def gone_is_fine(self, call: Callable[[], T]) -> T | None:
        """Run ``call``; a 404 (the resource is already gone) gives None instead of an error."""
        try:
            return call()
        except ApiException as error:
            if self.failure(error).status == 404:
                return None
            raise

    # -- events ----------------------------------------------------------------------------

    @contextmanager
    def job_events(self) -> Iterator[JobEventStream]:
        """One SSE connection announcing job changes; a wake-up signal, not a source of truth."""
        (events,) = self.read(
            "reading the API info", lambda: self._entity(self._info_href).link_hrefs("ApiEventsEndpoint")
        )
        url = self._client.base_url.join(events)
        with JobEventStream(str(url), self._client) as stream:
            yield stream

    # -- retries and errors ----------------------------------------------------------------

    def read(self, what: str, call: Callable[[], T]) -> T:
        """Run a read (or an idempotent change) with retries; failures become PlatformError,
        ``what`` (``"reading the event log"``) naming the task in its message."""
        try:
            return self._retrying(lambda error: self.failure(error).transient)(call)
        except FAILURES as error:
            raise self._error(what, error) from error

    def failure(self, error: BaseException) -> Failure:
        """A failure of one of this thread's requests, as the retry policy sees it."""
        return Failure(status=self._status(error), transport=_is_transport(error), never_sent=_never_sent(error))

    def _status(self, error: BaseException) -> int:
        """The HTTP status behind a client exception (the problem body, else the last answer); 0 without one."""
        if isinstance(error, ApiException):
            details = error.problem_details
            status: int | None = details.status if details is not None else None  # the client is untyped
            if status:
                return status
            if self._last.status is not None and self._last.status >= 400:
                return self._last.status
        return 0

    def _remember(self, response: httpx.Response) -> None:
        self._last.status = response.status_code
        self._last.retry_after = (
            retry_after_seconds(response.headers.get("Retry-After"))
            if response.status_code in (429, 503)
            else None
        )

    def _retrying(self, retry_when: Callable[[BaseException], bool]) -> Retrying:
        return Retrying(retry=retry_if_exception(retry_when), wait=self._wait, stop=self._give_up, reraise=True)

    def _give_up(self, state: RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome is not None else None
        failure = self.failure(error) if error is not None else Failure()
        return self._policy.give_up(failure, state.attempt_number, state.seconds_since_start or 0.0)

    def _wait(self, state: RetryCallState) -> float:
        retry_after, self._last.retry_after = self._last.retry_after, None
        return self._policy.wait(state.attempt_number, retry_after)

    def _error(self, what: str, error: BaseException) -> PlatformError:
        kind = PlatformUnreachable if self.failure(error).outage else PlatformError
        return kind(self._describe(what, error))

    def _describe(self, what: str, error: BaseException) -> str:
        status = self._status(error)
        if _is_transport(error):
            cause = error.__cause__ if isinstance(error, ClientException) else error
            if _never_sent(error):
                text = (
                    f"{what}: cannot reach the platform at {self.endpoint} "
                    f"({type(cause).__name__}); check the endpoint and that the server is running"
                )
            elif isinstance(cause, httpx.TimeoutException):
                text = f"{what}: the platform at {self.endpoint} did not answer in time ({type(cause).__name__})"
            else:  # connected, then the connection broke off: the network or the server dropped it
                detail = " ".join(str(cause).split())[:MESSAGE_LIMIT] or type(cause).__name__
                text = f"{what}: the connection to the platform at {self.endpoint} broke off ({detail})"
        elif isinstance(error, ApiException) and error.problem_details is not None:
            details = error.problem_details
            reason = ": ".join(part for part in (details.title, details.detail) if part)
            text = f"{what}: the platform at {self.endpoint} answered HTTP {details.status}: {reason}"
            if details.status == 401:
                text += " (check the API key: --api-key or PINEXQ_API_KEY)"
        elif isinstance(error, ApiException) and status >= 400:
            text = f"{what}: the platform at {self.endpoint} answered HTTP {status}"
        else:
            message = " ".join((getattr(error, "message", None) or str(error)).split())
            text = (
                f"{what}: unexpected answer from the platform at {self.endpoint}: "
                f"{message[:MESSAGE_LIMIT]}; is this a PineXQ Job-Management API?"
            )
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


@dataclass(frozen=True, slots=True)
class Fetched:
    """A query page as it came: its body, and its next page when a ``Link`` header (RFC 8288)
    names it, which the local JMA sends; from other servers the body's link is followed."""

    body: bytes
    next_href: str | None


def _body(response: httpx.Response) -> bytes:
    """The body of a streamed 200 answer; error answers raise the client's exceptions.

    Joined from the stream rather than read into the response: an httpx response and its
    stream refer to each other, so it lives until the collector runs, and it must not keep a
    page of a thousand jobs alive that long (``_query_jobs`` pauses the collector)."""
    _expect_200(response)
    return b"".join(response.iter_bytes())


def _expect_200(response: httpx.Response) -> None:
    """A streamed answer that is not 200 raises the client's exception (with its problem)."""
    if response.status_code >= 400:
        response.read()
        _raise_for_problem(response)
    if response.status_code != 200:
        request = response.request
        raise ClientException(f"{request.method} {request.url} answered HTTP {response.status_code}, not 200")


def _next_link(response: httpx.Response) -> str | None:
    url: str | None = response.links.get("next", {}).get("url")
    return None if url is None else str(response.url.join(url))


def _raise_for_problem(response: httpx.Response) -> None:
    """Turn an error answer into the client's exception (ProblemDetails kept for messages)."""
    if response.status_code >= 400:
        raise_exception_on_error(
            f"{response.request.method} {response.request.url} failed",
            handle_error_response(response),
        )


def _link(url: str) -> Link:
    return Link.from_url(httpx.URL(url), ["self"], "", MediaTypes.SIREN)
