"""Job, WorkData and folder filters and sort orders, and the SQL they become.

A filter is a value: every field left at its default matches everything. The store turns
it into a condition over indexed columns; tags go through the ``job_tags`` and
``workdata_tags`` tables. The first of ``tags_all`` picks the candidate rows through the
tag index and further tags are probed per candidate, so no query lists every row of a tag
that most rows carry (``batchrun.run=1``): re-reading a batch costs what the batch has,
not what the server has. A page in creation (``seq``) order is read through a :class:`Scan`
that walks the first tag's index entries in order and joins their rows, so it stops after
its own rows; the ``IN`` list would first collect every row of the tag, on every page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from batchrun.localjma.store.rows import as_stored_time
from batchrun.states import JobState

Condition = tuple[str, list[Any]]
"""An SQL condition and its arguments."""


@dataclass(frozen=True)
class Order:
    """Sort by a row field (``name``, ``created_at``, ...), ascending unless ``descending``."""

    field: str
    descending: bool = False


@dataclass(frozen=True)
class JobFilter:
    """Jobs to find; ``hidden`` and ``sub_job`` keep only those that are (True) or are not (False)."""

    state: JobState | None = None
    name_contains: str | None = None
    hidden: bool | None = None
    input_workdata_id: str | None = None
    created_before: datetime | None = None
    created_after: datetime | None = None
    tags_all: tuple[str, ...] = ()
    tags_any: tuple[str, ...] = ()
    step_id: str | None = None
    sub_job: bool | None = None
    parent_id: str | None = None
    folder_path: str | None = None
    folder_recursive: bool = False


@dataclass(frozen=True)
class WorkDataFilter:
    """WorkData to find; each flag keeps only those that have it (True) or do not (False)."""

    name_contains: str | None = None
    media_type_contains: str | None = None
    producer_step_id: str | None = None
    hidden: bool | None = None
    deletable: bool | None = None
    secret: bool | None = None
    kind: str | None = None
    used: bool | None = None
    created_before: datetime | None = None
    created_after: datetime | None = None
    tags_all: tuple[str, ...] = ()
    tags_any: tuple[str, ...] = ()
    folder_path: str | None = None
    folder_recursive: bool = False


@dataclass(frozen=True)
class FolderFilter:
    """Folders to find: the children of ``parent_id`` (or the ``top_level`` ones), names
    containing a part (case-sensitive, as paths are), paths starting with a prefix."""

    parent_id: str | None = None
    top_level: bool = False
    name_contains: str | None = None
    path_prefix: str | None = None


@dataclass(frozen=True)
class Scan:
    """Where a page's rows are read from: the row table alone, or (``first_tag`` set) the
    index entries of a filter's first tag, joined to their rows in ``seq`` order. A page
    of a tag query then reads only its own rows, however deep it is, instead of collecting
    every row of the tag first."""

    table: str
    tags_table: str
    seq_column: str
    first_tag: str | None = None

    @property
    def source(self) -> str:
        """The FROM clause. The tags table keeps its name (the further tags' subqueries name
        their own, which is the nearer one there)."""
        if self.first_tag is None:
            return self.table
        return f"{self.tags_table} JOIN {self.table} ON {self.table}.seq = {self.tags_table}.{self.seq_column}"

    @property
    def seq(self) -> str:
        """The column whose order is the rows' ``seq`` order (the tag index's, when it leads)."""
        return "seq" if self.first_tag is None else f"{self.tags_table}.{self.seq_column}"

    def condition(self, rest: Condition) -> Condition:
        """``rest`` (the filter without its first tag, when that tag leads) and the tag."""
        if self.first_tag is None:
            return rest
        return f"{self.tags_table}.tag = ? AND {rest[0]}", [self.first_tag, *rest[1]]


def job_scan(f: JobFilter) -> tuple[Scan, Condition]:
    """How to read ``f``'s jobs in ``seq`` order (led by its first tag, if any), and the condition."""
    scan = Scan("jobs", "job_tags", "job_seq", f.tags_all[0] if f.tags_all else None)
    return scan, scan.condition(job_condition(f, first_tag_read=scan.first_tag is not None))


def workdata_scan(f: WorkDataFilter) -> tuple[Scan, Condition]:
    """How to read ``f``'s WorkData in ``seq`` order (led by its first tag, if any), and the condition."""
    scan = Scan("workdata", "workdata_tags", "workdata_seq", f.tags_all[0] if f.tags_all else None)
    return scan, scan.condition(workdata_condition(f, first_tag_read=scan.first_tag is not None))


def job_condition(f: JobFilter, *, first_tag_read: bool = False) -> Condition:
    """``first_tag_read``: leave the first of ``tags_all`` out (a :class:`Scan` reads it)."""
    clauses: list[str] = []
    args: list[Any] = []
    if f.state is not None:
        clauses.append("state = ?")
        args.append(f.state)
    _contains(clauses, args, "name", f.name_contains)
    _flag(clauses, args, "hidden", f.hidden)
    if f.input_workdata_id is not None:
        clauses.append("seq IN (SELECT job_seq FROM job_inputs WHERE workdata_id = ?)")
        args.append(f.input_workdata_id)
    _created_and_tags(f, "jobs", "job_tags", "job_seq", clauses, args, first_tag_read)
    if f.step_id is not None:
        clauses.append("step_id = ?")
        args.append(f.step_id)
    if f.sub_job is not None:
        clauses.append("parent_id IS NOT NULL" if f.sub_job else "parent_id IS NULL")
    if f.parent_id is not None:
        clauses.append("parent_id = ?")
        args.append(f.parent_id)
    _in_folder(clauses, args, f)
    return " AND ".join(clauses) or "1", args


def workdata_condition(f: WorkDataFilter, *, first_tag_read: bool = False) -> Condition:
    """``first_tag_read``: leave the first of ``tags_all`` out (a :class:`Scan` reads it)."""
    clauses: list[str] = []
    args: list[Any] = []
    _contains(clauses, args, "name", f.name_contains)
    _contains(clauses, args, "media_type", f.media_type_contains)
    if f.producer_step_id is not None:
        clauses.append("producer_step_id = ?")
        args.append(f.producer_step_id)
    _flag(clauses, args, "hidden", f.hidden)
    _flag(clauses, args, "deletable", f.deletable)
    _flag(clauses, args, "secret", f.secret)
    if f.kind is not None:
        clauses.append("kind = ?")
        args.append(f.kind)
    if f.used is not None:
        clauses.append(("" if f.used else "NOT ") + "EXISTS (SELECT 1 FROM job_inputs WHERE workdata_id = id)")
    _created_and_tags(f, "workdata", "workdata_tags", "workdata_seq", clauses, args, first_tag_read)
    _in_folder(clauses, args, f)
    return " AND ".join(clauses) or "1", args


def folder_condition(f: FolderFilter) -> Condition:
    clauses: list[str] = []
    args: list[Any] = []
    if f.parent_id is not None:
        clauses.append("parent_id = ?")
        args.append(f.parent_id)
    if f.top_level:
        clauses.append("parent_id IS NULL")
    if f.name_contains:
        clauses.append("instr(name, ?) > 0")
        args.append(f.name_contains)
    if f.path_prefix:
        _path_under(clauses, args, "path", f.path_prefix)
    return " AND ".join(clauses) or "1", args


def _in_folder(clauses: list[str], args: list[Any], f: JobFilter | WorkDataFilter) -> None:
    """Filed directly in the folder at ``folder_path``, or (recursive) anywhere below it too."""
    if f.folder_path is None:
        return
    if f.folder_recursive:
        _path_under(clauses, args, "folder_path", f.folder_path)
    else:
        clauses.append("folder_path = ?")
        args.append(f.folder_path)


def _path_under(clauses: list[str], args: list[Any], column: str, prefix: str) -> None:
    """``column`` starts with ``prefix``, compared as text (no LIKE: names may hold ``%`` and ``_``)."""
    clauses.append(f"substr({column}, 1, ?) = ?")
    args.extend((len(prefix), prefix))


def _contains(clauses: list[str], args: list[Any], column: str, part: str | None) -> None:
    """Case-insensitive substring match; an empty part matches everything."""
    if part:
        clauses.append(f"instr(lower({column}), ?) > 0")
        args.append(part.lower())


def _flag(clauses: list[str], args: list[Any], column: str, wanted: bool | None) -> None:
    if wanted is not None:
        clauses.append(f"{column} = ?")
        args.append(int(wanted))


def _created_and_tags(
    f: JobFilter | WorkDataFilter,
    table: str,
    tags_table: str,
    seq_column: str,
    clauses: list[str],
    args: list[Any],
    first_tag_read: bool,
) -> None:
    """The creation-time and tag conditions that jobs and WorkData share."""
    if f.created_before is not None:
        clauses.append("created_at < ?")
        args.append(as_stored_time(f.created_before))
    if f.created_after is not None:
        clauses.append("created_at > ?")
        args.append(as_stored_time(f.created_after))
    for position, tag in enumerate(f.tags_all):
        if position == 0 and first_tag_read:
            continue
        if position:
            clauses.append(f"EXISTS (SELECT 1 FROM {tags_table} WHERE tag = ? AND {seq_column} = {table}.seq)")
        else:
            clauses.append(f"seq IN (SELECT {seq_column} FROM {tags_table} WHERE tag = ?)")
        args.append(tag)
    if f.tags_any:
        marks = ", ".join("?" * len(f.tags_any))
        clauses.append(f"seq IN (SELECT {seq_column} FROM {tags_table} WHERE tag IN ({marks}))")
        args.extend(f.tags_any)


def order_clause(order: Order | None, columns: Mapping[str, str]) -> str:
    """Newest first by default; ``seq`` breaks ties (and is creation order, so sorts by
    ``created_at`` and fields without a column of their own use it)."""
    if order is None:
        return "seq DESC"
    direction = "DESC" if order.descending else "ASC"
    column = columns.get(order.field)
    return f"seq {direction}" if column is None else f"{column} {direction}, seq {direction}"


def seq_direction(order: Order | None, columns: Mapping[str, str]) -> str | None:
    """``ASC`` or ``DESC`` when ``order`` sorts by ``seq`` alone (the default, ``created_at``),
    None when it sorts by a column of its own (such pages are read by offset, not by cursor)."""
    if order is None:
        return "DESC"
    if order.field in columns:
        return None
    return "DESC" if order.descending else "ASC"
