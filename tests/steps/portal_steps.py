"""Steps for the portal's browser tests: every kind of form field, an input slot, an output, a gate."""

import threading
import time
from pathlib import Path
from typing import Annotated, Literal

from batchrun import InputSlot, OutputSlot, SlotOptions, version


def _wait_for(gate: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    pause = threading.Event()
    while not Path(gate).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gate {gate} never opened")
        pause.wait(0.02)


@version("1.0.0")
def scale(
    table: Annotated[InputSlot, SlotOptions("text/csv")],
    scaled: Annotated[OutputSlot, SlotOptions("text/csv")],
    count: int,
    factor: float = 1.5,
    mode: Literal["fast", "exact"] = "fast",
    verbose: bool = False,
    gate: str = "",
) -> dict:
    """Scale the numbers of a CSV table, once ``gate`` (a file) exists.

    :param count: how many rows to keep
    :param factor: what to multiply by
    """
    if gate:
        _wait_for(gate)
    text = table.slots[0].read_data()
    rows = [line for line in (text if isinstance(text, str) else text.decode()).splitlines() if line][:count]
    scaled.slots[0].meta.filename = "scaled.csv"
    scaled.slots[0].write_data("\n".join(str(float(row) * factor) for row in rows))
    return {"rows": len(rows), "mode": mode, "verbose": verbose, "factor": factor}


@version("1.0.0")
def hold(gate: str) -> str:
    """Occupy a worker until ``gate`` (a file) exists."""
    _wait_for(gate)
    return "released"
