"""Data slots as step code sees them: files to read inputs from and write outputs to.

A *data slot* is one named input or output of a step (``DataSlot``); it holds one or more
*slots* (``Slot``), each one WorkData file. Files open as text (UTF-8) or binary by media
type, as in PineXQ's procon: text for JSON, CSV, XML, YAML, ``text/*`` and the ``+json``
/``+xml``/``+csv``/``+yaml`` suffixes, binary otherwise.

A step receives a ``DataSlot`` for each parameter typed ``DataSlot`` (or the batchrun-native
``InputSlot``/``OutputSlot``), and opens it with ``with`` or reads and writes through
``read_data()``/``write_data()``, which open, read or write, and close. Closing an output
slot hands its file to the server: it is WorkData of the job from then on, visible while
the job still runs. An output slot left empty produces nothing.

Kept to the standard library: every worker process imports it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sized
from dataclasses import dataclass, field
from typing import IO, Any

Reader = Callable[[IO[Any]], Any]
Writer = Callable[[IO[Any], Any], Any]
CollectionReader = Callable[[list[IO[Any]]], Any]
CollectionWriter = Callable[[list[IO[Any]], Any], Any]

_TEXT_TYPES = frozenset({
    "application/json", "application/xml", "application/yaml", "application/x-yaml", "image/svg+xml",
    "application/x-www-form-urlencoded", "multipart/form-data", "application/vnd.siren+json",
})
_TEXT_SUFFIXES = ("+json", "+xml", "+csv", "+yaml")


def is_text(media_type: str) -> bool:
    """Whether files of this media type open in text mode (procon's rule)."""
    base = media_type.split(";", 1)[0].strip().lower()
    return base.startswith("text/") or base in _TEXT_TYPES or base.endswith(_TEXT_SUFFIXES)


@dataclass
class SlotMeta:
    """A slot's WorkData name, tags and comment: read them on inputs, set them on outputs.

    As in procon, an input's metadata is read-only: setting a field raises
    ``AttributeError`` and its ``tags`` are a tuple.
    """

    filename: str | None = None
    tags: list[str] | tuple[str, ...] = field(default_factory=list)
    comment: str | None = None
    readonly: bool = field(default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.readonly:
            object.__setattr__(self, "tags", tuple(self.tags))

    def __setattr__(self, name: str, value: Any) -> None:
        if getattr(self, "readonly", False):
            raise AttributeError(f"metadata of an input slot is read-only: cannot set {name!r}")
        object.__setattr__(self, name, value)


@dataclass(frozen=True)
class SlotOptions:
    """Details of a native ``InputSlot``/``OutputSlot`` parameter, given with ``Annotated``::

        def plot(points: InputSlot, chart: Annotated[OutputSlot, SlotOptions("image/png")]) -> None
    """

    media_type: str = "application/octet-stream"
    title: str | None = None
    description: str | None = None
    min_slots: int = 1
    max_slots: int | None = 1
    tags: tuple[str, ...] = ()


class Slot:
    """One file of a data slot.

    ``with slot:`` (or ``open()``/``close()``) gives ``slot.file``; ``read_data()`` and
    ``write_data()`` do all of it at once, through the slot's reader or writer when its
    declaration has one. ``path`` is the file itself, for libraries that want a path.
    As in procon, leaving ``with slot:`` by an exception closes an output without handing
    it over.
    """

    def __init__(
        self,
        path: str,
        media_type: str,
        meta: SlotMeta,
        *,
        writable: bool,
        reader: Reader | None = None,
        writer: Writer | None = None,
        on_close: Callable[[Slot], None] | None = None,
        name: str | None = None,
    ) -> None:
        self.path = path
        self.media_type = media_type
        self.meta = meta
        self.writable = writable
        self.name = name or os.path.basename(path)
        self._reader = reader
        self._writer = writer
        self._on_close = on_close
        self._file: IO[Any] | None = None
        self.withheld = False  # closed by an exception: not handed over

    @property
    def file(self) -> IO[Any]:
        if self._file is None:
            raise ValueError(f"slot {self.name!r} is not open: use 'with slot:' or read_data()/write_data()")
        return self._file

    def open(self) -> IO[Any]:
        if self._file is None:
            text = is_text(self.media_type)
            mode = ("w" if self.writable else "r") + ("" if text else "b")
            # open until close(): the slot is the context manager
            self._file = open(  # noqa: SIM115
                self.path, mode, encoding="utf-8" if text else None, newline="" if text else None
            )
        return self._file

    def close(self, sync: bool = True) -> None:
        """Close the file; an output is handed to the server as WorkData (when not empty),
        unless ``sync`` is false."""
        if self._file is None:
            return
        self._file.close()
        self._file = None
        if sync:
            self.push()
        else:
            self.withheld = True

    def push(self) -> None:
        """Hand a closed output to the server now (procon's name for it)."""
        self.withheld = False
        if self.writable and self._on_close is not None:
            self._on_close(self)

    def discard(self) -> None:
        """Close without handing anything over, and remove the file (for unfinished outputs)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.writable and os.path.exists(self.path):
            os.unlink(self.path)

    def __enter__(self) -> Slot:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self.close(sync=exc_type is None)

    def read_data(self) -> Any:
        """The file's content: ``reader(file)`` when declared, else ``file.read()``."""
        with self:
            return self._reader(self.file) if self._reader is not None else self.file.read()

    def write_data(self, data: Any) -> None:
        """Write ``data`` as the whole file: ``writer(file, data)`` when declared, else
        ``file.write(data)``."""
        if not self.writable:
            raise ValueError(f"slot {self.name!r} is an input: it cannot be written")
        with self:
            if self._writer is not None:
                self._writer(self.file, data)
            else:
                self.file.write(data)

    def size(self) -> int:
        """Bytes written so far (0 when the file does not exist yet)."""
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def __repr__(self) -> str:
        return f"Slot({self.name!r}, type={'OUTPUT' if self.writable else 'INPUT'}, path={self.path!r})"


class DataSlot:
    """A named input or output of a step: its slots, one file each.

    ``with data_slot:`` opens every slot. An output that is a collection grows with
    ``add_slot()`` (or ``write_data_to_slots``); a single output has exactly one slot.

    ``read_data_from_slots()`` and ``write_data_to_slots(data)`` work as in procon: a
    single slot reads or writes *one* data object through its reader or writer; a
    collection hands the list of its open files to ``collection_reader(files)`` or
    ``collection_writer(files, data)``. Without those, batchrun reads a collection into a
    list of each file's content and writes item *i* of ``data`` to file *i*.
    """

    def __init__(
        self,
        name: str,
        media_type: str,
        slots: list[Slot],
        *,
        writable: bool,
        max_slots: int | None = 1,
        new_slot: Callable[[str | None, str | None], Slot] | None = None,
        collection: bool | None = None,
        collection_reader: CollectionReader | None = None,
        collection_writer: CollectionWriter | None = None,
    ) -> None:
        self.name = name
        self.media_type = media_type
        self.slots = slots
        self.writable = writable
        self.max_slots = max_slots
        self.collection = max_slots != 1 if collection is None else collection
        self.collection_reader = collection_reader
        self.collection_writer = collection_writer
        self._new_slot = new_slot

    def __iter__(self) -> Iterator[Slot]:
        return iter(self.slots)

    def __len__(self) -> int:
        return len(self.slots)

    def __enter__(self) -> DataSlot:
        for slot in self.slots:
            slot.open()
        return self

    def __exit__(self, *_: object) -> None:
        for slot in self.slots:
            slot.close()

    def __repr__(self) -> str:
        return f"DataSlot({self.name!r}, type={'OUTPUT' if self.writable else 'INPUT'})"

    def add_slot(self, filename: str | None = None, media_type: str | None = None) -> Slot:
        """One more file in an output collection (``filename`` names its WorkData)."""
        if not self.writable or self._new_slot is None:
            raise ValueError(f"data slot {self.name!r} is an input: it cannot grow")
        if self.max_slots is not None and len(self.slots) >= self.max_slots:
            raise ValueError(f"data slot {self.name!r} holds at most {self.max_slots} file(s)")
        slot = self._new_slot(filename, media_type)
        self.slots.append(slot)
        return slot

    def _single(self) -> Slot:
        if len(self.slots) != 1:
            raise ValueError(
                f"data slot {self.name!r} is no collection, but has {len(self.slots)} files instead of one"
            )
        return self.slots[0]

    def read_data_from_slots(self) -> Any:
        """The slot's data: one object from a single slot (through its reader); for a
        collection, what ``collection_reader`` makes of the list of its files."""
        if not self.collection:
            return self._single().read_data()
        if self.collection_reader is None:
            return [slot.read_data() for slot in self.slots]
        with self:
            return self.collection_reader([slot.file for slot in self.slots])

    def write_data_to_slots(self, data: Any) -> None:
        """Write ``data``: as one object to a single slot (through its writer); for a
        collection, ``collection_writer(files, data)`` with one file per item of ``data``
        (files the step added already count), else item *i* to file *i*."""
        if not self.collection:
            self._single().write_data(data)
            return
        if self.collection_writer is None:
            for index, item in enumerate(data):
                slot = self.slots[index] if index < len(self.slots) else self.add_slot()
                slot.write_data(item)
            return
        wanted = len(data) if isinstance(data, Sized) else 1
        while len(self.slots) < max(wanted, 1):
            self.add_slot()
        with self:
            self.collection_writer([slot.file for slot in self.slots], data)


class InputSlot(DataSlot):
    """Type a plain function's parameter with this to receive an input data slot."""


class OutputSlot(DataSlot):
    """Type a plain function's parameter with this to receive an output data slot to write."""


__all__ = ["DataSlot", "InputSlot", "OutputSlot", "Slot", "SlotMeta", "SlotOptions", "is_text"]
