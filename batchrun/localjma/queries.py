"""Job, processing-step and WorkData queries: filters, sorting, paging, stateless query URLs.

A query is POSTed, answered with 201 and a Location, and read with GET; the Location and
every paging link must keep working when fetched later (protocol §5). The whole query is
therefore encoded in the URL (``?q=`` base64url JSON), so no server state is kept per query.
Job and WorkData filters become SQL over indexed columns (tags through the ``job_tags`` and
``workdata_tags`` tables); steps are few and filtered in memory, which makes semver ranges and semver sorting simple.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Callable, Generic, Sequence, TypeVar

from pydantic import BaseModel, ValidationError

from batchrun.localjma.payloads import (
    JobFilter,
    JobQuery,
    JobSort,
    Pagination,
    StepFilter,
    StepQuery,
    WorkDataFilter,
    WorkDataQuery,
    WorkDataSort,
    load_json,
    resource_id,
)
from batchrun.localjma.problems import bad_request
from batchrun.localjma.registry import StepRegistry
from batchrun.localjma.semver import is_prerelease, version_key, version_range
from batchrun.localjma.siren import deployment_state, link
from batchrun.localjma.store import JobRow, StepRow, Store, WorkDataRow, as_stored_time

DEFAULT_PAGE_SIZE = 100

Q = TypeVar("Q", bound=BaseModel)
T = TypeVar("T")


def encode_query(query: BaseModel) -> str:
    document = query.model_dump(by_alias=True, exclude_none=True, mode="json")
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_query(model: type[Q], token: str) -> Q:
    try:
        document = load_json(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return model.model_validate(document)
    except (ValueError, binascii.Error, ValidationError):
        raise bad_request("this query URL is damaged; run the query again to get a fresh one") from None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a query result and what the result entity needs around it."""

    items: list[T]
    total: int
    offset: int
    size: int
    remaining_tags: list[str] | None


def page_properties(page: Page[Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "TotalEntities": page.total,
        "CurrentEntitiesCount": len(page.items),
        "PreviousEntitiesCount": page.offset,
    }
    if page.remaining_tags is not None:
        properties["RemainingTags"] = page.remaining_tags
    return properties


def page_links(query: Q, page: Page[Any], href: Callable[[Q], str]) -> list[dict[str, Any]]:
    """self/first/previous/next/last; the client's iteration follows only ``next``."""

    def at(offset: int) -> str:
        pagination = Pagination(page_size=page.size, page_offset=offset)
        return href(query.model_copy(update={"pagination": pagination}))

    links = [link("self", at(page.offset)), link("first", at(0))]
    if page.offset > 0:
        links.append(link("previous", at(max(page.offset - page.size, 0))))
    if page.offset + page.size < page.total:
        links.append(link("next", at(page.offset + page.size)))
    links.append(link("last", at(max(page.total - 1, 0) // page.size * page.size)))
    return links


def _paging(query: JobQuery | StepQuery | WorkDataQuery) -> tuple[int, int]:
    pagination = query.pagination or Pagination()
    return pagination.page_offset or 0, pagination.page_size or DEFAULT_PAGE_SIZE


def _unsupported(tag_query_expression: str | None, folder: str | None) -> None:
    if tag_query_expression:
        raise bad_request("TagQueryExpression: tag query expressions are not supported; use TagsByAnd or TagsByOr")
    if folder:
        raise bad_request("Folder: the local JMA has no folders; leave Folder out")


def _remaining(tags: list[str], filters: Sequence[list[str] | None]) -> list[str]:
    used = {tag for tags_filter in filters for tag in tags_filter or ()}
    return [tag for tag in tags if tag not in used]


def job_where(f: JobFilter) -> tuple[str, list[Any]]:
    """The SQL condition of a job filter and its arguments."""
    _unsupported(f.tag_query_expression, f.folder)
    if f.action_template_url:
        raise bad_request("ActionTemplateUrl: the local JMA has no action templates; leave it out")
    clauses: list[str] = []
    args: list[Any] = []
    if f.state is not None:
        clauses.append("state = ?")
        args.append(f.state)
    if f.name:
        clauses.append("instr(lower(name), ?) > 0")
        args.append(f.name.lower())
    if f.show_hidden is not None:
        clauses.append("hidden = ?")
        args.append(int(f.show_hidden))
    if f.work_data_url is not None:
        clauses.append("seq IN (SELECT job_seq FROM job_inputs WHERE workdata_id = ?)")
        args.append(resource_id(f.work_data_url, "WorkData", "WorkDataUrl"))
    _created_and_tags(f, "jobs", "job_tags", "job_seq", clauses, args)
    if f.processing_step_url is not None:
        clauses.append("step_id = ?")
        args.append(resource_id(f.processing_step_url, "ProcessingStep", "ProcessingStepUrl"))
    if f.is_sub_job is not None:
        clauses.append("parent_id IS NOT NULL" if f.is_sub_job else "parent_id IS NULL")
    if f.parent_job_url is not None:
        clauses.append("parent_id = ?")
        args.append(resource_id(f.parent_job_url, "Job", "ParentJobUrl"))
    return " AND ".join(clauses) or "1", args


def _created_and_tags(
    f: JobFilter | WorkDataFilter,
    table: str,
    tags_table: str,
    seq_column: str,
    clauses: list[str],
    args: list[Any],
) -> None:
    """The CreatedBefore/After and TagsByAnd/Or conditions that jobs and WorkData share.

    The first TagsByAnd tag picks the candidate rows through the tag index; further tags are
    probed per candidate, so no query lists every row of a tag that most rows carry
    (``batchrun.run=1``): a batch's re-read costs what the batch has, not what the server has.
    """
    if f.created_before is not None:
        clauses.append("created_at < ?")
        args.append(as_stored_time(f.created_before))
    if f.created_after is not None:
        clauses.append("created_at > ?")
        args.append(as_stored_time(f.created_after))
    for position, tag in enumerate(f.tags_by_and or ()):
        if position:
            clauses.append(f"EXISTS (SELECT 1 FROM {tags_table} WHERE tag = ? AND {seq_column} = {table}.seq)")
        else:
            clauses.append(f"seq IN (SELECT {seq_column} FROM {tags_table} WHERE tag = ?)")
        args.append(tag)
    if f.tags_by_or:
        marks = ", ".join("?" * len(f.tags_by_or))
        clauses.append(f"seq IN (SELECT {seq_column} FROM {tags_table} WHERE tag IN ({marks}))")
        args.extend(f.tags_by_or)


def _sql_page(
    query: JobQuery | WorkDataQuery,
    where: tuple[str, list[Any]],
    order: str,
    find: Callable[[str, Sequence[Any], str, int, int], list[T]],
    count: Callable[[str, Sequence[Any]], int],
    tags: Callable[[str, Sequence[Any]], list[str]],
) -> Page[T]:
    """One page of a query the store answers in SQL; the last page needs no COUNT."""
    condition, args = where
    offset, size = _paging(query)
    rows = find(condition, args, order, size, offset)
    if 0 < len(rows) < size or (not rows and offset == 0):
        total = offset + len(rows)
    else:
        total = count(condition, args)
    remaining = None
    if query.include_remaining_tags:
        remaining = _remaining(tags(condition, args), [query.filter.tags_by_and, query.filter.tags_by_or])
    return Page(rows, total, offset, size, remaining)


def _sql_order(sort: JobSort | WorkDataSort | None, columns: dict[str, str]) -> str:
    """Newest first by default; ``seq`` breaks ties (and is creation order, so it is cheap)."""
    if sort is None or (sort.property_name is None and sort.sort_type in (None, "None")):
        return "seq DESC"
    direction = "DESC" if sort.sort_type == "Descending" else "ASC"
    column = columns.get(sort.property_name or "CreatedAt")
    return f"seq {direction}" if column is None else f"{column} {direction}, seq {direction}"


def job_order(query: JobQuery) -> str:
    return _sql_order(query.sort_by, {"Name": "name", "CompletedAt": "completed_at"})


def find_jobs(store: Store, query: JobQuery) -> Page[JobRow]:
    where = job_where(query.filter)
    return _sql_page(query, where, job_order(query), store.find_jobs, store.count_jobs, store.job_tags)


def _contains(text: str | None, part: str) -> bool:
    return part.lower() in (text or "").lower()


def _tri_state(wanted: bool | None, actual: bool) -> bool:
    """Show* flags: false excludes, true keeps only those, absent keeps everything."""
    return wanted is None or wanted == actual


def _step_predicate(f: StepFilter, registry: StepRegistry) -> Callable[[StepRow], bool]:
    _unsupported(f.tag_query_expression, f.folder)
    try:
        in_range = version_range(f.version) if f.version else None
    except ValueError as error:
        raise bad_request(f"Version: {error}; use '*', an exact version like '1.2.0' or a range like '^1.2'") from None

    def matches(step: StepRow) -> bool:
        manifest = step.manifest
        if f.function_name is not None:
            if f.function_name_match_type == "MatchExact":
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
            and all(tag in tags for tag in f.tags_by_and or ())
            and (not f.tags_by_or or any(tag in tags for tag in f.tags_by_or))
            and _tri_state(f.is_public, False)
            and _tri_state(f.show_hidden, step.hidden)
            and _tri_state(f.show_deprecated, step.deprecated_at is not None)
            and _tri_state(f.show_prerelease, is_prerelease(step.version))
            and (f.deployment_state is None
                 or f.deployment_state == deployment_state(registry.is_implemented(step)))
            and (f.pro_con_version is None or manifest.get("procon_version") == f.pro_con_version)
        )

    return matches


def _sorted_steps(steps: list[StepRow], query: StepQuery) -> list[StepRow]:
    """Name, then newest version first by default: a name-only selection picks the newest."""
    sort = query.sort_by
    by_version = sorted(steps, key=lambda s: (version_key(s.version), s.created_at), reverse=True)
    if sort is None or (sort.property_name is None and sort.sort_type in (None, "None")):
        return sorted(by_version, key=lambda s: s.function_name)
    descending = sort.sort_type == "Descending"
    keys: dict[str, Callable[[StepRow], Any]] = {
        "Title": lambda s: s.function_name,
        "CreatedAt": lambda s: s.created_at,
        "LastModifiedAt": lambda s: s.modified_at,
        "Version": lambda s: version_key(s.version),
    }
    return sorted(steps, key=keys[sort.property_name or "CreatedAt"], reverse=descending)


def find_steps(registry: StepRegistry, query: StepQuery) -> Page[StepRow]:
    matches = _step_predicate(query.filter, registry)
    found = _sorted_steps([s for s in registry.all() if matches(s)], query)
    offset, size = _paging(query)
    remaining = None
    if query.include_remaining_tags:
        tags = sorted({tag for s in found for tag in s.tags})
        remaining = _remaining(tags, [query.filter.tags_by_and, query.filter.tags_by_or])
    return Page(found[offset : offset + size], len(found), offset, size, remaining)


def workdata_where(f: WorkDataFilter) -> tuple[str, list[Any]]:
    """The SQL condition of a WorkData filter and its arguments."""
    _unsupported(f.tag_query_expression, f.folder)
    clauses: list[str] = []
    args: list[Any] = []
    for column, part in (("name", f.name_contains), ("media_type", f.media_type_contains)):
        if part:
            clauses.append(f"instr(lower({column}), ?) > 0")
            args.append(part.lower())
    if f.producer_processing_step_url is not None:
        clauses.append("producer_step_id = ?")
        args.append(resource_id(f.producer_processing_step_url, "ProcessingStep", "ProducerProcessingStepUrl"))
    for column, flag in (("hidden", f.show_hidden), ("deletable", f.is_deletable), ("secret", f.is_marked_as_secret)):
        if flag is not None:
            clauses.append(f"{column} = ?")
            args.append(int(flag))
    if f.is_kind is not None:
        clauses.append("kind = ?")
        args.append(f.is_kind)
    if f.is_used is not None:
        clauses.append(("" if f.is_used else "NOT ") + "EXISTS (SELECT 1 FROM job_inputs WHERE workdata_id = id)")
    _created_and_tags(f, "workdata", "workdata_tags", "workdata_seq", clauses, args)
    return " AND ".join(clauses) or "1", args


def workdata_order(query: WorkDataQuery) -> str:
    return _sql_order(query.sort_by, {"Name": "name", "MediaType": "media_type", "Kind": "kind", "SizeInBytes": "size"})


def find_workdata(store: Store, query: WorkDataQuery) -> Page[WorkDataRow]:
    where = workdata_where(query.filter)
    return _sql_page(
        query, where, workdata_order(query), store.find_workdata, store.count_workdata, store.workdata_tags
    )
