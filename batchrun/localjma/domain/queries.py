"""Job, processing-step, WorkData and folder queries: a filter value, an order and a page in, a page out.

Jobs and WorkData are filtered, sorted and paged by the store; steps are few and filtered
in memory, which makes semver ranges and semver sorting simple. A page says how many
items match in all, and on request which other tags the matches carry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from batchrun.localjma.domain.errors import Invalid
from batchrun.localjma.domain.semver import is_prerelease, version_key, version_range
from batchrun.localjma.domain.steps import StepRegistry, deployment_state
from batchrun.localjma.store.database import Store
from batchrun.localjma.store.filters import FolderFilter, JobFilter, Order, WorkDataFilter
from batchrun.localjma.store.rows import (
    FolderRow,
    JobRow,
    LogLine,
    SampleRow,
    StepRow,
    StoredEvent,
    UsageRow,
    WorkDataRow,
)

DEFAULT_PAGE_SIZE = 100

T = TypeVar("T")


@dataclass(frozen=True)
class StepFilter:
    """Processing steps to find. ``version`` is a semver range; ``public``, ``hidden``,
    ``deprecated`` and ``prerelease`` keep only the steps that are (True) or are not (False)."""

    function_name: str | None = None
    exact_function_name: bool = False
    title_contains: str | None = None
    version: str | None = None
    description_contains: str | None = None
    tags_all: tuple[str, ...] = ()
    tags_any: tuple[str, ...] = ()
    public: bool | None = None
    hidden: bool | None = None
    deprecated: bool | None = None
    prerelease: bool | None = None
    deployment_state: str | None = None
    procon_version: str | None = None


F = TypeVar("F", JobFilter, WorkDataFilter, StepFilter, FolderFilter)


@dataclass(frozen=True)
class Search(Generic[F]):
    """What to find, in which ``order`` (None: the default), which page, and whether the page
    should name the tags the matches carry besides those filtered by."""

    filter: F
    order: Order | None = None
    offset: int = 0
    size: int = DEFAULT_PAGE_SIZE
    remaining_tags: bool = False
    after: int | None = None  # a cursor: the ``seq`` of the previous page's last row


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a query result and what the result needs around it."""

    items: list[T]
    total: int
    offset: int
    size: int
    remaining_tags: list[str] | None
    more: bool = False  # rows follow this page
    cursor: int | None = None  # the ``seq`` of its last row, where the next page starts


def _remaining(tags: list[str], search: Search[Any]) -> list[str]:
    used = {*search.filter.tags_all, *search.filter.tags_any}
    return [tag for tag in tags if tag not in used]


class Stored(Protocol):
    """A stored row: its ``seq`` orders rows by creation and is a page's cursor."""

    @property
    def seq(self) -> int: ...


S = TypeVar("S", bound=Stored)


def _stored_page(
    search: Search[F],
    find: Callable[[F, Order | None, int, int, int | None], list[S]],
    count: Callable[[F], int],
    tags: Callable[[F], list[str]],
) -> Page[S]:
    """One page of a query the store answers, and whether rows follow it (one row more is
    read to know). The last page read by offset needs no count; one read after a cursor
    does, as rows may have come or gone before the cursor (the store keeps the count
    between writes, so paging a large result counts it once)."""
    rows = find(search.filter, search.order, search.size + 1, search.offset, search.after)
    more = len(rows) > search.size
    del rows[search.size:]
    last = not more and search.after is None and (rows or search.offset == 0)
    total = search.offset + len(rows) if last else count(search.filter)
    remaining = _remaining(tags(search.filter), search) if search.remaining_tags else None
    cursor = rows[-1].seq if rows else search.after
    return Page(rows, total, search.offset, search.size, remaining, more, cursor)


def _contains(text: str | None, part: str) -> bool:
    return part.lower() in (text or "").lower()


def _tri_state(wanted: bool | None, actual: bool) -> bool:
    """Flags: false excludes, true keeps only those, absent keeps everything."""
    return wanted is None or wanted == actual


def _step_predicate(f: StepFilter, registry: StepRegistry) -> Callable[[StepRow], bool]:
    try:
        in_range = version_range(f.version) if f.version else None
    except ValueError as error:
        raise Invalid(f"Version: {error}; use '*', an exact version like '1.2.0' or a range like '^1.2'") from None

    def matches(step: StepRow) -> bool:
        manifest = step.manifest
        if f.function_name is not None:
            if f.exact_function_name:
                if step.function_name != f.function_name:
                    return False
            elif not _contains(step.function_name, f.function_name):
                return False
        descriptions = f"{manifest.get('short_description') or ''}\n{manifest.get('long_description') or ''}"
        tags = set(step.tags)
        return (
            (in_range is None or in_range(step.version))
            and (f.title_contains is None or _contains(step.function_name, f.title_contains))
            and (f.description_contains is None or _contains(descriptions, f.description_contains))
            and all(tag in tags for tag in f.tags_all)
            and (not f.tags_any or any(tag in tags for tag in f.tags_any))
            and _tri_state(f.public, False)
            and _tri_state(f.hidden, step.hidden)
            and _tri_state(f.deprecated, step.deprecated_at is not None)
            and _tri_state(f.prerelease, is_prerelease(step.version))
            and (f.deployment_state is None
                 or f.deployment_state == deployment_state(registry.is_implemented(step)))
            and (f.procon_version is None or manifest.get("procon_version") == f.procon_version)
        )

    return matches


_STEP_SORT_KEYS: dict[str, Callable[[StepRow], Any]] = {
    "function_name": lambda s: s.function_name,
    "created_at": lambda s: s.created_at,
    "modified_at": lambda s: s.modified_at,
    "version": lambda s: version_key(s.version),
}


def _sorted_steps(steps: list[StepRow], order: Order | None) -> list[StepRow]:
    """Name, then newest version first by default: a name-only selection picks the newest."""
    if order is None:
        by_version = sorted(steps, key=lambda s: (version_key(s.version), s.created_at), reverse=True)
        return sorted(by_version, key=lambda s: s.function_name)
    return sorted(steps, key=_STEP_SORT_KEYS[order.field], reverse=order.descending)


class Queries:
    """The queries of the local JMA, over its store and its steps."""

    def __init__(self, store: Store, registry: StepRegistry) -> None:
        self._store = store
        self._registry = registry

    def jobs(self, search: Search[JobFilter]) -> Page[JobRow]:
        store = self._store
        return _stored_page(search, store.find_jobs, store.count_jobs, store.job_tags)

    def workdata(self, search: Search[WorkDataFilter]) -> Page[WorkDataRow]:
        store = self._store
        return _stored_page(search, store.find_workdata, store.count_workdata, store.workdata_tags)

    def folders(self, search: Search[FolderFilter]) -> Page[FolderRow]:
        store = self._store
        # Folders sort by path: their pages are read by offset, and the cursor is not needed.
        return _stored_page(
            search, lambda f, order, size, offset, _: store.find_folders(f, order, size, offset),
            store.count_folders, lambda _: [],
        )

    def steps(self, search: Search[StepFilter]) -> Page[StepRow]:
        matches = _step_predicate(search.filter, self._registry)
        found = _sorted_steps([s for s in self._registry.all() if matches(s)], search.order)
        remaining = None
        if search.remaining_tags:
            remaining = _remaining(sorted({tag for s in found for tag in s.tags}), search)
        items = found[search.offset : search.offset + search.size]
        return Page(items, len(found), search.offset, search.size, remaining, search.offset + search.size < len(found))

    def job_tags(self) -> list[str]:
        """Every tag a job carries, sorted."""
        return self._store.job_tags()

    def step_tags(self) -> list[str]:
        """Every tag a processing step carries, sorted."""
        return sorted({tag for step in self._registry.all() for tag in step.tags})

    def workdata_tags(self, required: tuple[str, ...] = ()) -> list[str]:
        """Every tag of the WorkData that carry all of ``required``, sorted."""
        return self._store.workdata_tags(WorkDataFilter(tags_all=required))

    def job_counts_by_tag(self, group_prefix: str, split_prefix: str) -> list[tuple[str, str | None, str, int]]:
        """Jobs counted per group tag, split tag and state (see :meth:`Store.job_counts_by_tag`)."""
        return self._store.job_counts_by_tag(group_prefix, split_prefix)

    def event_log(self, resource_id: str | None, after: int, limit: int) -> list[tuple[int, StoredEvent]]:
        """The event log after sequence number ``after``, of one job or WorkData or of all."""
        return self._store.event_log(resource_id, after, limit)

    def job_logs(self, job: JobRow, limit: int, offset: int, newest_first: bool) -> tuple[list[LogLine], int]:
        """One page of a job's log and how many lines it has in all."""
        return self._store.job_logs(job.id, limit, offset, newest_first), self._store.count_job_logs(job.id)

    def job_usage(self, job: JobRow) -> tuple[UsageRow | None, list[SampleRow]]:
        """What the job cost, once it ended on a worker (None before, or when its worker died),
        and the samples of it taken so far."""
        return self._store.job_usage(job.id), self._store.job_samples(job.id)
