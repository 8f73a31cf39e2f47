"""Steps that read input data slots, for the manifest ``inputs`` tests."""

from typing import Annotated

from batchrun.dataslots import InputSlot, SlotOptions
from batchrun.stepkit import version


@version("1.0.0")
def summarize(table: Annotated[InputSlot, SlotOptions("text/csv")], alpha: float = 0.0) -> dict:
    """Count a CSV table's lines; report its first line.

    :param table: the table
    :param alpha: a parameter sent with every point
    """
    lines = table.slots[0].read_data().splitlines()
    return {"rows": len(lines), "first": lines[0][:20] if lines else "", "alpha": alpha}


@version("1.0.0")
def combine(
    tables: Annotated[InputSlot, SlotOptions("text/csv", max_slots=None)],
    config: Annotated[InputSlot, SlotOptions("text/plain", min_slots=0, max_slots=1)],
) -> dict:
    """Count the lines of every table, and read an optional config.

    :param tables: one or more tables
    :param config: an optional config text
    """
    rows = [len(slot.read_data().splitlines()) for slot in tables.slots]
    text = config.slots[0].read_data() if config.slots else ""
    return {"tables": len(rows), "rows": sum(rows), "config": text.strip()}


@version("1.0.0")
def pair(left: Annotated[InputSlot, SlotOptions("text/csv")], right: Annotated[InputSlot, SlotOptions("text/csv")]
         ) -> int:
    """Lines of two tables.

    :param left: a table
    :param right: another table
    """
    return sum(len(slot.slots[0].read_data().splitlines()) for slot in (left, right))
