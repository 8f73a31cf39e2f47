"""Steps that write output WorkData, for reports that list outputs and ``batchrun fetch``."""

from __future__ import annotations

import json
from typing import Annotated

from batchrun import InputSlot, OutputSlot, SlotOptions, version


def blob_bytes(label: str, size: int) -> bytes:
    """The binary output's content: not UTF-8, different per label."""
    seed = sum(label.encode()) % 251
    return bytes((seed + i) % 256 for i in range(size))


@version("1.0.0")
def produce(
    summary: Annotated[OutputSlot, SlotOptions("application/json")],
    blob: Annotated[OutputSlot, SlotOptions("application/octet-stream")],
    label: str,
    size: int = 1000,
    filename: str = "",
) -> int:
    """Write a JSON summary and a binary file of ``size`` bytes named ``filename``."""
    summary.slots[0].write_data(json.dumps({"label": label, "size": size}))
    blob.slots[0].meta.filename = filename or f"{label}.bin"
    with blob.slots[0] as slot:
        slot.file.write(blob_bytes(label, size))
    return size


@version("1.0.0")
def measure(data: InputSlot, label: str = "") -> int:
    """The size of the input WorkData."""
    return len(data.slots[0].read_data())
