"""Data slots as a step's manifest declares them, what a job's input slots require, and what they hold.

A slot entry is procon's manifest dict (``name``, ``title``, ``description``, ``mediatype``,
``minSlots``, ``maxSlots``); a job's slots are addressed by their index in the manifest's
``input_dataslots`` / ``output_dataslots`` lists, which is also the order the client reads
them in. A job is ``ReadyForProcessing`` only when every input slot holds at least
``minSlots`` WorkData; no slot ever holds more than ``maxSlots`` (``null``: unbounded).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from batchrun.localjma.domain.errors import NotFound
from batchrun.localjma.store.rows import StepRow, WorkDataRow

Slot = dict[str, Any]


def input_slots(step: StepRow | None) -> list[Slot]:
    return [] if step is None else list(step.manifest.get("input_dataslots") or ())


def output_slots(step: StepRow | None) -> list[Slot]:
    return [] if step is None else list(step.manifest.get("output_dataslots") or ())


def input_slot(step: StepRow | None, index: int) -> Slot:
    """The input slot at ``index``; NotFound when the job's step has no such slot."""
    slots = input_slots(step)
    if not 0 <= index < len(slots):
        raise NotFound(f"input data slot {index} (the job's step has {len(slots)} input slot(s))")
    return slots[index]


def slot_name(slot: Slot) -> str:
    return str(slot.get("name") or "")


def min_slots(slot: Slot) -> int:
    return int(slot.get("minSlots") or 0)


def max_slots(slot: Slot) -> int | None:
    limit = slot.get("maxSlots")
    return None if limit is None else int(limit)


def is_collection(slot: Slot) -> bool:
    limit = max_slots(slot)
    return limit is None or limit > 1


def missing_inputs(step: StepRow | None, selected: Mapping[int, int]) -> list[str]:
    """Why the input slots are not ready: one line per slot holding too few WorkData."""
    return [
        f"input data slot '{slot_name(slot)}' needs at least {min_slots(slot)} WorkData, has {selected.get(index, 0)}"
        for index, slot in enumerate(input_slots(step))
        if selected.get(index, 0) < min_slots(slot)
    ]


def too_many(slot: Slot, count: int) -> str | None:
    """Why ``count`` WorkData do not fit into ``slot``, or None when they do."""
    limit = max_slots(slot)
    if limit is not None and count > limit:
        return f"input data slot '{slot_name(slot)}' takes at most {limit} WorkData, got {count}"
    return None


@dataclass(frozen=True)
class SlotContents:
    """The WorkData in a job's slots, by slot index: selected inputs and produced outputs."""

    inputs: dict[int, list[WorkDataRow]] = field(default_factory=dict)
    outputs: dict[int, list[WorkDataRow]] = field(default_factory=dict)

