"""Stands in for ``pinexq.procon.dataslots``: the decorators record what a step declares.

Each decorator stores a ``DataSlotSpec`` in the function's ``__dataslots__`` dict under the
parameter name (``__returns__`` for the return value), procon's attribute names, so that
discovery can leave slot parameters out of the parameter schema and list the slots in the
manifest, and the workers know how to read and write them (``reader``/``writer`` and their
collection forms). ``DataSlot`` and ``Slot`` are batchrun's own (:mod:`batchrun.dataslots`);
further procon options (such as ``mode``) are accepted and ignored so that unchanged step
files import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, TypeVar

from batchrun.dataslots import CollectionReader, CollectionWriter, DataSlot, Reader, Slot, Writer

F = TypeVar("F", bound=Callable[..., Any])

DATASLOTS_ATTR = "__dataslots__"
RETURNS = "__returns__"


class MediaTypes(StrEnum):
    """The media types procon names for slot declarations."""

    OCTETSTREAM = "application/octet-stream"
    JSON = "application/json"
    FORMDATA = "multipart/form-data"
    SIREN = "application/siren+json"
    XML = "application/xml"
    ZIP = "application/zip"
    PDF = "application/pdf"
    TEXT = "text/plain"
    HTML = "text/html"
    CSV = "text/csv"
    SVG = "image/svg+xml"
    PNG = "image/png"
    JPEG = "image/jpeg"
    BMP = "image/bmp"
    YAML = "application/yaml"
    PARQUET = "application/vnd.apache.parquet"
    WORKFLOW_DEFINITION = "application/vnd.pinexq.workflow.definition+json"
    WORKFLOW_REPORT = "application/vnd.pinexq.workflow.report+json"


@dataclass(frozen=True)
class DataSlotSpec:
    """One declared slot: where it sits in the signature and what the manifest says."""

    name: str
    direction: Literal["input", "output"]
    media_type: str
    title: str | None
    description: str | None
    alias: str | None
    min_slots: int
    max_slots: int | None
    reader: Reader | None = None
    writer: Writer | None = None
    collection_reader: CollectionReader | None = None
    collection_writer: CollectionWriter | None = None
    tags: tuple[str, ...] = ()


def _declare(
    name: str,
    direction: Literal["input", "output"],
    media_type: str,
    options: dict[str, Any],
    min_slots: int = 1,
    max_slots: int | None = 1,
) -> Callable[[F], F]:
    spec = DataSlotSpec(
        name=name,
        direction=direction,
        media_type=str(media_type),
        title=options.get("title"),
        description=options.get("description"),
        alias=options.get("alias"),
        min_slots=int(options.get("min_slots", min_slots)),
        max_slots=options.get("max_slots", max_slots),
        reader=options.get("reader"),
        writer=options.get("writer"),
        collection_reader=options.get("collection_reader"),
        collection_writer=options.get("collection_writer"),
        tags=tuple(options.get("tags") or ()),
    )

    def decorate(func: F) -> F:
        slots = dict(getattr(func, DATASLOTS_ATTR, {}))
        slots[name] = spec
        setattr(func, DATASLOTS_ATTR, slots)
        return func

    return decorate


class dataslot:  # procon's spelling
    """``@dataslot.input("param", media_type=...)`` and its siblings, as in procon.

    Options understood: ``title``, ``description``, ``alias``, ``reader``/``writer`` (and
    ``collection_reader``/``collection_writer``), for collections ``min_slots``/``max_slots``,
    and batchrun's ``tags`` for the WorkData an output produces; the rest is ignored.
    """

    @staticmethod
    def input(name: str, media_type: str = MediaTypes.OCTETSTREAM, **options: Any) -> Callable[[F], F]:
        return _declare(name, "input", media_type, options)

    @staticmethod
    def output(name: str, media_type: str = MediaTypes.OCTETSTREAM, **options: Any) -> Callable[[F], F]:
        return _declare(name, "output", media_type, options)

    @staticmethod
    def input_collection(
        name: str, media_type: str = MediaTypes.OCTETSTREAM, **options: Any
    ) -> Callable[[F], F]:
        return _declare(name, "input", media_type, options, min_slots=0, max_slots=None)

    @staticmethod
    def output_collection(
        name: str, media_type: str = MediaTypes.OCTETSTREAM, **options: Any
    ) -> Callable[[F], F]:
        return _declare(name, "output", media_type, options, max_slots=None)

    @staticmethod
    def returns(media_type: str = MediaTypes.OCTETSTREAM, **options: Any) -> Callable[[F], F]:
        return _declare(RETURNS, "output", media_type, options)

    @staticmethod
    def returns_collection(media_type: str = MediaTypes.OCTETSTREAM, **options: Any) -> Callable[[F], F]:
        return _declare(RETURNS, "output", media_type, options, max_slots=None)


__all__ = ["RETURNS", "DataSlot", "DataSlotSpec", "MediaTypes", "Slot", "dataslot"]
