"""Steps the data benchmarks run: one that takes an input file, one that writes an output."""

import json
import os
from typing import Annotated

from batchrun import InputSlot, OutputSlot, SlotOptions, version


@version("1.0.0")
def weigh(data: InputSlot, index: int = 0) -> int:
    """The size of the input file, without reading it (``index`` makes every point distinct)."""
    return os.path.getsize(data.slots[0].path)


@version("1.0.0")
def emit(out: Annotated[OutputSlot, SlotOptions("application/json")], index: int = 0, size: int = 200) -> int:
    """Write a small JSON output of about ``size`` bytes."""
    out.slots[0].meta.filename = f"out-{index}.json"
    out.slots[0].write_data(json.dumps({"index": index, "pad": "x" * max(size - 30, 0)}))
    return index
