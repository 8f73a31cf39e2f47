"""``@immutable`` values: dataclasses with slots, equality and hash as a frozen dataclass has
them (the type checker refuses assignments: ``make lint``)."""

from __future__ import annotations

import dataclasses

import pytest

from batchrun.immutable import immutable


@immutable
class Point:
    name: str
    tags: tuple[str, ...] = ()


def test_an_immutable_value_compares_and_hashes_by_its_fields() -> None:
    assert Point("a", ("x",)) == Point("a", ("x",)) != Point("b")
    assert len({Point("a", ("x",)), Point("a", ("x",)), Point("b")}) == 2


def test_an_immutable_value_has_slots_and_is_replaced_not_changed() -> None:
    point = Point("a")

    with pytest.raises(AttributeError):
        point.colour = "red"  # type: ignore[attr-defined]  # slots: no field that was not declared
    changed = dataclasses.replace(point, tags=("x",))

    assert (point, changed) == (Point("a"), Point("a", ("x",)))
