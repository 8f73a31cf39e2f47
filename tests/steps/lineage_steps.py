"""Steps with data slots and sub-jobs, for the WorkData and lineage tests of the local JMA."""

import json
import threading
import time
from pathlib import Path
from typing import Annotated

from pinexq.procon.dataslots import DataSlot, MediaTypes, dataslot
from pinexq.procon.jobmanagement import get_client, get_job
from pinexq.procon.step import Step, version

from batchrun.dataslots import InputSlot, OutputSlot, SlotOptions

CHART = bytes(range(256)) * 3  # not UTF-8: proves binary slots stay binary


def _wait_for(gate: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    pause = threading.Event()
    while not Path(gate).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gate {gate} never opened")
        pause.wait(0.02)


@version("1.0.0")
def two_outputs(
    summary: Annotated[OutputSlot, SlotOptions("application/json", tags=("kind=summary",))],
    chart: Annotated[OutputSlot, SlotOptions("image/png")],
    label: str = "demo",
    gate: str = "",
) -> int:
    """Write a JSON summary and a binary chart, then wait for ``gate`` (a file) to appear."""
    summary.slots[0].write_data(json.dumps({"label": label}))
    chart.slots[0].meta.filename = f"{label}.png"
    chart.slots[0].meta.tags.append(f"label={label}")
    with chart.slots[0] as slot:
        slot.file.write(CHART)
    if gate:
        _wait_for(gate)
    return 2


@version("1.0.0")
def shout(text: InputSlot, loud: Annotated[OutputSlot, SlotOptions("text/plain")]) -> int:
    """Upper-case a binary input into a text output; returns the number of bytes read."""
    data = text.slots[0].read_data()
    loud.slots[0].write_data(data.decode().upper())
    return len(data)


@version("1.0.0")
def write_parts(count: int, parts: Annotated[OutputSlot, SlotOptions("text/csv", max_slots=None)]) -> int:
    """An output collection: one CSV file per part."""
    for number in range(count):
        parts.add_slot().write_data(f"part,{number}\n")
    return count


class Tables(Step):
    """procon-style steps: inputs read before the call, outputs written after it."""

    @dataslot.input("table", media_type=MediaTypes.CSV, description="rows to count")
    @dataslot.returns(media_type=MediaTypes.JSON, writer=lambda file, value: json.dump(value, file))
    def count_rows(self, table: str, header: bool = True) -> dict[str, int]:
        """Count the rows of a CSV table.

        :param header: whether the first line is a header
        """
        rows = [line for line in table.splitlines() if line.strip()]
        return {"rows": len(rows) - (1 if header else 0)}

    @dataslot.input_collection("pieces", media_type=MediaTypes.TEXT, min_slots=1, max_slots=5)
    @dataslot.output("joined", media_type=MediaTypes.TEXT, writer=lambda file, lines: file.write("\n".join(lines)))
    def join(self, pieces: list[str], joined: list[str], separator: str = "") -> int:
        """Join the pieces into one text, filled by reference."""
        joined.extend(piece.strip() + separator for piece in pieces)
        return len(pieces)

    @dataslot.input_collection("texts", media_type=MediaTypes.TEXT, collection_reader=lambda files: [
        line for file in files for line in file.read().splitlines()
    ])
    @dataslot.output_collection("lines", media_type=MediaTypes.TEXT, max_slots=10, collection_writer=lambda files, items: [
        file.write(item) for file, item in zip(files, items, strict=True)
    ])
    def split_lines(self, texts: list[str], lines: list[str]) -> int:
        """Collection reader and writer: every line of every input becomes one output file."""
        lines.extend(texts)
        return len(texts)

    @dataslot.input("source", media_type=MediaTypes.TEXT)
    def checked(self, source: DataSlot) -> str:
        """A DataSlot parameter: the step opens the slot itself."""
        with source:
            return str(source.slots[0].file.read()).strip()


@version("1.0.0")
def write_then_fail(
    early: Annotated[OutputSlot, SlotOptions("text/plain")], late: Annotated[OutputSlot, SlotOptions("text/plain")]
) -> None:
    """Finish one output, then fail: the finished one stays, as produced data of the failed job."""
    early.slots[0].write_data("written before the failure")
    late.slots[0].open().write("never closed")
    raise RuntimeError("failed after writing")


@version("1.0.0")
def spawn_children(children: int, child_step: str = "two_outputs", allow_deletion: bool = True) -> int:
    """Create ``children`` sub-jobs of this job through the API, start them and wait for them."""
    from pinexq.client.job_management import JobStates, ProcessingStep

    parent = get_job()
    step = ProcessingStep.from_name(get_client(), child_step)
    for number in range(children):
        child = parent.create_sub_job(f"child {number}")
        child.select_processing(processing_step_instance=step)
        child.configure_parameters(label=f"child{number}").start()
        if allow_deletion:
            child.allow_output_data_deletion()
    parent.wait_for_sub_jobs_complete(timeout_s=60, polling_interval_s=0.05)
    return parent.sub_jobs_in_state(JobStates.completed)
