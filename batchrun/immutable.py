"""``@immutable``: the dataclass of values made by the hundred thousand (a record per job read,
a spec and a plan entry per point).

To the type checker it is a frozen dataclass: mypy refuses any assignment to a field, which
is what keeps these values from changing under the threads that share them. At runtime it
is a slotted dataclass with the same equality and hash, built without the frozen checks: a
frozen dataclass sets every field through ``object.__setattr__``, which makes a 17-field
record take 2.5 µs instead of 0.9 µs, and a command that reads 100,000 jobs makes as many.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from typing_extensions import dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True)
def immutable(cls: type[T]) -> type[T]:
    """A slotted dataclass, frozen as far as the type checker is concerned (see the module)."""
    return dataclass(slots=True, unsafe_hash=True)(cls)
