"""procon-style steps that call ``DataSlot.read_data_from_slots``/``write_data_to_slots``."""

import json
from typing import IO, Any

from pinexq.procon.dataslots import DataSlot, MediaTypes, dataslot
from pinexq.procon.step import Step, version


def _write_numbered(files: list[IO[Any]], data: dict[str, int]) -> None:
    """A collection writer that gets the whole dict: one ``key=value`` file per entry."""
    for file, (key, value) in zip(files, sorted(data.items()), strict=True):
        file.write(f"{key}={value}")


def _read_numbered(files: list[IO[Any]]) -> dict[str, int]:
    """The mirror of ``_write_numbered``: one dict from all the files."""
    pairs = [str(file.read()).split("=", 1) for file in files]
    return {key: int(value) for key, value in pairs}


class SlotCalls(Step):
    """Slot objects handed to the step, read and written through procon's helpers."""

    @version("1.0.0")
    @dataslot.output("kept", media_type=MediaTypes.JSON, writer=lambda file, data: json.dump(data, file))
    def keep(self, kept: DataSlot) -> int:
        """A single output slot: the dict is written as one object, not its keys."""
        kept.write_data_to_slots({"kept": [3, 4]})
        return len(kept)

    @version("1.0.0")
    @dataslot.output("raw", media_type=MediaTypes.TEXT)
    def keep_text(self, raw: DataSlot) -> None:
        """A single output slot without a writer: ``file.write(data)``, once."""
        raw.write_data_to_slots("one text, not its characters")

    @version("1.0.0")
    @dataslot.input("source", media_type=MediaTypes.JSON, reader=json.load)
    def read_kept(self, source: DataSlot) -> dict[str, list[int]]:
        """A single input slot reads one object through its reader."""
        data: dict[str, list[int]] = source.read_data_from_slots()
        return data

    @version("1.0.0")
    @dataslot.output_collection(
        "numbered", media_type=MediaTypes.TEXT, max_slots=10, collection_writer=_write_numbered
    )
    def number(self, numbered: DataSlot, count: int) -> int:
        """A collection output: ``collection_writer`` gets the list of files and the whole data."""
        numbered.write_data_to_slots({f"n{index}": index * 10 for index in range(count)})
        return len(numbered)

    @version("1.0.0")
    @dataslot.input_collection("numbered", media_type=MediaTypes.TEXT, collection_reader=_read_numbered)
    def total(self, numbered: DataSlot) -> dict[str, int]:
        """A collection input: ``collection_reader`` gets the list of files."""
        data: dict[str, int] = numbered.read_data_from_slots()
        return data

    @version("1.0.0")
    @dataslot.input("source", media_type=MediaTypes.JSON)
    @dataslot.output("table", media_type=MediaTypes.PARQUET)
    def slot_details(self, source: DataSlot, table: DataSlot) -> list[Any]:
        """Names, lengths and metadata as procon shows them: ``source[0]`` for the first
        slot, an input's metadata read-only, an output's writable."""
        [slot] = source.slots
        try:
            slot.meta.comment = "changed"
            refused = False
        except AttributeError:
            refused = True
        table.slots[0].meta.filename = "table.parquet"
        table.write_data_to_slots(b"PAR1")
        return [len(source), slot.name, slot.media_type, slot.meta.tags, refused, table.slots[0].name]

    @version("1.0.0")
    @dataslot.output("kept", media_type=MediaTypes.TEXT)
    @dataslot.output("dropped", media_type=MediaTypes.TEXT)
    def interrupted(self, kept: DataSlot, dropped: DataSlot) -> bool:
        """An exception that leaves ``with slot:`` closes the file without handing it over."""
        try:
            with dropped.slots[0] as slot:
                slot.file.write("half written")
                raise ValueError("interrupted")
        except ValueError:
            pass
        kept.write_data_to_slots("complete")
        return True
