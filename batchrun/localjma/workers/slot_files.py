"""A job's data slots inside a worker: the files it reads and writes, and what it reports.

The server's data directory is on the same machine, so a worker reads input WorkData
straight from it and writes outputs straight into it, each under a fresh WorkData id. Every
output file that is closed (or, for outputs filled by reference, written after the call)
is reported as ``OutputWritten`` and becomes WorkData of the job at once, while the job
still runs.

procon's rules decide what a slot parameter receives:

* a parameter typed ``DataSlot`` (or ``InputSlot``/``OutputSlot``) gets the slot object;
* any other input is read before the call: ``reader(file)`` or ``file.read()``, and a
  collection through ``collection_reader([files])`` (else a list of the files' contents);
* any other output is filled by reference: it starts as ``dtype()`` (e.g. an empty list)
  and is written after a successful call with ``writer(file, data)`` or ``file.write(data)``;
* the ``__returns__`` slot takes the return value, and the job's result is then ``null``.

A single output slot has one file from the start; a collection starts empty and grows
with ``add_slot()``. Empty files produce no WorkData, and when the call fails, files not
handed over yet are removed; so is a file whose ``with slot:`` ended in an exception
(procon does not push it), even when the step itself goes on to succeed.
"""

from __future__ import annotations

import mimetypes
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from batchrun.dataslots import DataSlot, Slot, SlotMeta
from batchrun.localjma.procon_compat.dataslots import RETURNS
from batchrun.localjma.workers.discovery import LoadedStep, SlotParameter
from batchrun.localjma.workers.messages import InputData, OutputWritten


@dataclass(frozen=True)
class SlotFiles:
    """Where one job's slots live: its selected inputs (per input slot index), the data
    directory, and where to report the outputs it writes."""

    job_id: str
    inputs: tuple[tuple[InputData, ...], ...]
    data_dir: str | None
    report: Callable[[OutputWritten], None]


class DataslotError(Exception):
    """A slot could not be read or written; the text is the job's error (procon's wording)."""


def _takes_slot(parameter: SlotParameter) -> bool:
    annotation = getattr(parameter.annotation, "__origin__", parameter.annotation)
    return isinstance(annotation, type) and issubclass(annotation, DataSlot)


def _is_collection(parameter: SlotParameter) -> bool:
    return parameter.spec.max_slots != 1


def _slot_name(parameter: SlotParameter) -> str:
    return parameter.spec.alias or parameter.spec.name


def default_filename(slot_name: str, media_type: str, number: int | None) -> str:
    """``result.json``, ``chart.png``, ``parts_2.csv``: the slot name, a count, an extension."""
    stem = "result" if slot_name == RETURNS else slot_name
    extension = mimetypes.guess_extension(media_type.split(";", 1)[0].strip()) or ""
    return f"{stem}{'' if number is None else f'_{number}'}{extension}"


class JobSlots:
    """The data slots of one run of a step: built before the call, finished after it."""

    def __init__(self, step: LoadedStep, files: SlotFiles | None) -> None:
        self._step = step
        self._files = files
        self._data_dir = "" if files is None or files.data_dir is None else files.data_dir
        self._reported: dict[str, int] = {}
        if step.output_slots and not self._data_dir:
            name = step.definition.function_name
            raise DataslotError(f"{name} writes output data slots, but the workers have no data directory")
        selected = files.inputs if files is not None else ()
        self.inputs = [
            self._input(parameter, selected[index] if index < len(selected) else ())
            for index, parameter in enumerate(step.input_slots)
        ]
        self.outputs = [self._output(index, parameter) for index, parameter in enumerate(step.output_slots)]

    def _input(self, parameter: SlotParameter, selected: Sequence[InputData]) -> DataSlot:
        spec = parameter.spec
        name = _slot_name(parameter)
        slots = [
            Slot(
                os.path.join(self._data_dir, data.workdata_id), spec.media_type,
                SlotMeta(data.name, list(data.tags), data.comment, readonly=True), writable=False, reader=spec.reader,
                name=f"{name}[{index}]",
            )
            for index, data in enumerate(selected)
        ]
        return DataSlot(
            name, spec.media_type, slots, writable=False, max_slots=spec.max_slots,
            collection=_is_collection(parameter), collection_reader=spec.collection_reader,
        )

    def _output(self, index: int, parameter: SlotParameter) -> DataSlot:
        spec = parameter.spec
        name = _slot_name(parameter)
        collection = _is_collection(parameter)
        data_slot: DataSlot

        def new_slot(filename: str | None, media_type: str | None) -> Slot:
            kind = media_type or spec.media_type
            number = len(data_slot.slots) + 1 if collection else None
            return Slot(
                os.path.join(self._data_dir, str(uuid.uuid4())), kind,
                SlotMeta(filename or default_filename(name, kind, number), list(spec.tags)),
                writable=True, writer=spec.writer, on_close=lambda slot: self._report(index, slot),
                name=f"{name}[{len(data_slot.slots)}]",
            )

        data_slot = DataSlot(
            name, spec.media_type, [], writable=True, max_slots=spec.max_slots, new_slot=new_slot,
            collection=collection, collection_writer=spec.collection_writer,
        )
        if not collection:
            data_slot.slots.append(new_slot(None, None))
        return data_slot

    def arguments(self) -> dict[str, Any]:
        """Values for the slot parameters: slot objects, inputs read, outputs created empty."""
        values: dict[str, Any] = {}
        for parameter, data_slot in zip(self._step.input_slots, self.inputs, strict=True):
            values[parameter.spec.name] = data_slot if _takes_slot(parameter) else self._read(parameter, data_slot)
        for parameter, data_slot in zip(self._step.output_slots, self.outputs, strict=True):
            if parameter.spec.name != RETURNS:
                values[parameter.spec.name] = data_slot if _takes_slot(parameter) else parameter.annotation()
        return values

    @property
    def returns_to_slot(self) -> bool:
        return any(parameter.spec.name == RETURNS for parameter in self._step.output_slots)

    def finish(self, arguments: dict[str, Any], value: Any) -> None:
        """After a successful call: write what was filled by reference and the return value,
        then report every output file not reported yet."""
        for parameter, data_slot in zip(self._step.output_slots, self.outputs, strict=True):
            if not _takes_slot(parameter):
                data = value if parameter.spec.name == RETURNS else arguments[parameter.spec.name]
                self._write(parameter, data_slot, data)
        for index, data_slot in enumerate(self.outputs):
            for slot in data_slot.slots:
                if not slot.withheld:
                    self._report(index, slot)
                elif os.path.basename(slot.path) not in self._reported:
                    slot.discard()

    def abandon(self) -> None:
        """After a failed call: outputs already handed over stay; unfinished files go."""
        for data_slot in self.outputs:
            for slot in data_slot.slots:
                if os.path.basename(slot.path) not in self._reported:
                    slot.discard()

    def _read(self, parameter: SlotParameter, data_slot: DataSlot) -> Any:
        try:
            if not data_slot.collection and not data_slot.slots:
                return None
            return data_slot.read_data_from_slots()
        except Exception as error:
            raise DataslotError(self._failure("reading", parameter, error)) from error

    def _write(self, parameter: SlotParameter, data_slot: DataSlot, data: Any) -> None:
        if data is None:
            return
        try:
            data_slot.write_data_to_slots(data)
        except Exception as error:
            raise DataslotError(self._failure("writing", parameter, error)) from error

    def _failure(self, doing: str, parameter: SlotParameter, error: Exception) -> str:
        function = self._step.definition.function_name
        return (
            f"Error {doing} dataslot '{_slot_name(parameter)}' for function '{function}': "
            f"{type(error).__name__}: {error}"
        )

    def _report(self, index: int, slot: Slot) -> None:
        """Hand a written output file to the server (again when it changed); drop empty ones."""
        workdata_id = os.path.basename(slot.path)
        size = slot.size()
        if size == 0:
            if workdata_id not in self._reported and os.path.exists(slot.path):
                os.unlink(slot.path)
            return
        if self._files is None or self._reported.get(workdata_id) == size:
            return
        self._reported[workdata_id] = size
        tags = tuple(dict.fromkeys(tag for tag in slot.meta.tags if tag.strip()))
        filename = slot.meta.filename or default_filename("output", slot.media_type, None)
        self._files.report(OutputWritten(
            self._files.job_id, index, workdata_id, filename, slot.media_type, size, tags, slot.meta.comment,
        ))
