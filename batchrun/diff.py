"""Two sets of a batch's results compared point by point: each point with a verdict and a reason.

A rerun is only reproducible if its results come out the same, so ``batchrun diff`` pairs the
points of two runs (or two revisions of one run) by their key and says per point whether the
results are equal, which fields differ, or why there is nothing to compare. Pure: it takes
report rows and returns values, like :func:`batchrun.plan.classify`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from batchrun.plan import excerpt
from batchrun.report.model import RESULT, ReportJob
from batchrun.states import FAILED, JobState, PointState

DIFF_FORMAT_VERSION = 1
"""The version of ``diff -o json``'s document."""


class Verdict(StrEnum):
    """What the comparison found for one point."""

    EQUAL = "equal"
    DIFFERS = "differs"
    ONLY_IN_A = "only-in-a"
    ONLY_IN_B = "only-in-b"
    IN_NEITHER = "in-neither"
    FAILED = "failed"
    UNFINISHED = "unfinished"


@dataclass(frozen=True)
class Tolerance:
    """How close two numbers must be to count as equal (``math.isclose``): within ``rtol``
    of the larger magnitude or within ``atol``. Zero for both (the default) means exact."""

    rtol: float = 0.0
    atol: float = 0.0

    def same(self, a: float, b: float) -> bool:
        """Exact unless a tolerance is set (ints compared as ints, never through floats);
        NaN equals NaN, since a rerun that reproduces a NaN reproduced the result."""
        if a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)):
            return True
        return (self.rtol > 0 or self.atol > 0) and math.isclose(a, b, rel_tol=self.rtol, abs_tol=self.atol)


@dataclass(frozen=True)
class FieldDifference:
    """One field (dotted path, list items as ``[i]``) whose values differ; a value that one
    side lacks is :data:`ABSENT`."""

    field: str
    a: Any
    b: Any


class _Absent:
    """A field one side does not have (distinct from a JSON ``null``)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class PointDiff:
    """One point of the comparison: its verdict, why, and the rows it compared."""

    key: str
    name: str
    verdict: Verdict
    reason: str
    a: ReportJob | None  # None when side A has no job for the point
    b: ReportJob | None
    fields: tuple[FieldDifference, ...] = ()


@dataclass(frozen=True)
class Diff:
    """Every point of either side, in manifest order (side A's then side B's extra points)."""

    points: tuple[PointDiff, ...]
    tolerance: Tolerance

    @property
    def all_equal(self) -> bool:
        return all(point.verdict is Verdict.EQUAL for point in self.points)

    def counts(self) -> dict[str, int]:
        """Points per verdict, only the verdicts that occur, in the enum's order."""
        found = Counter(point.verdict for point in self.points)
        return {verdict.value: found[verdict] for verdict in Verdict if found[verdict]}


def compare(a: Sequence[ReportJob], b: Sequence[ReportJob], tolerance: Tolerance = Tolerance()) -> Diff:
    """Pair the rows of two reports by key and judge each pair."""
    by_key_a = {row.key: row for row in a}
    by_key_b = {row.key: row for row in b}
    keys = list(dict.fromkeys([*by_key_a, *by_key_b]))
    return Diff(
        tuple(
            _judge(key, (by_key_a.get(key) or by_key_b[key]).name, _present(by_key_a.get(key)),
                   _present(by_key_b.get(key)), tolerance)
            for key in keys
        ),
        tolerance,
    )


def _present(row: ReportJob | None) -> ReportJob | None:
    """The row when the side has a job for the point at all."""
    return None if row is None or row.state == PointState.NOT_CREATED else row


def _judge(key: str, name: str, a: ReportJob | None, b: ReportJob | None, tolerance: Tolerance) -> PointDiff:
    def point(verdict: Verdict, reason: str, fields: tuple[FieldDifference, ...] = ()) -> PointDiff:
        return PointDiff(key, name, verdict, reason, a, b, fields)

    if a is None and b is None:
        return point(Verdict.IN_NEITHER, "no job for this point on either side")
    if b is None:
        return point(Verdict.ONLY_IN_A, "no job for this point on side B")
    if a is None:
        return point(Verdict.ONLY_IN_B, "no job for this point on side A")
    failed = [f"{side} ended {row.state}: {excerpt(row.error)}" for side, row in (("A", a), ("B", b))
              if row.state in FAILED]
    if failed:
        return point(Verdict.FAILED, "; ".join(failed))
    unfinished = [f"{side} is {row.state}" for side, row in (("A", a), ("B", b)) if row.state != JobState.COMPLETED]
    if unfinished:
        return point(Verdict.UNFINISHED, "; ".join(unfinished) + ": no result to compare yet")
    fields = differences(a.result, b.result, tolerance)
    if not fields:
        return point(Verdict.EQUAL, "the results are equal" + _within(tolerance))
    listed = ", ".join(field.field for field in fields)
    count = f"{len(fields)} fields differ" if len(fields) > 1 else "1 field differs"
    return point(Verdict.DIFFERS, f"{count}: {listed}", fields)


def _within(tolerance: Tolerance) -> str:
    if tolerance == Tolerance():
        return ""
    return f" (numbers within rtol {tolerance.rtol:g}, atol {tolerance.atol:g})"


def differences(a: Any, b: Any, tolerance: Tolerance = Tolerance(), path: str = RESULT) -> tuple[FieldDifference, ...]:
    """The fields where two JSON values differ, walked without recursion: dicts field by field
    (a field on one side only is a difference), lists item by item when their lengths match,
    numbers within ``tolerance``, everything else by equality (``true`` is not ``1``)."""
    found: list[FieldDifference] = []
    pending: list[tuple[str, Any, Any]] = [(path, a, b)]
    while pending:
        where, left, right = pending.pop()
        if isinstance(left, dict) and isinstance(right, dict):
            names = list(dict.fromkeys([*left, *right]))
            pending.extend(
                (f"{where}.{name}", left.get(name, ABSENT), right.get(name, ABSENT)) for name in reversed(names)
            )
        elif isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
            pending.extend(
                (f"{where}[{index}]", left[index], right[index]) for index in reversed(range(len(left)))
            )
        elif not _same(left, right, tolerance):
            found.append(FieldDifference(where, left, right))
    return tuple(found)


def _same(a: Any, b: Any, tolerance: Tolerance) -> bool:
    if _number(a) and _number(b):
        return tolerance.same(a, b)
    return type(a) is type(b) and a == b


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
