"""Job identity: canonical JSON, the job key, the spec hash, the ownership tags.

The platform is batchrun's only state, so a job is recognised by tags computed from the
manifest alone. These hashes must come out the same on every machine and every Python
version; the encoding below is therefore fixed and covered by tests with literal hashes.

- ``key``: *which point* — step function, step version and the canonical parameters.
  Job names are labels and are not part of it, so renaming never reruns anything.
- ``spec``: *what else forces a rerun* of the same point — the key and the manifest's
  ``revision`` (e.g. a dataset snapshot id). Change the revision to rerun every point.
- The run label and the attempt number are separate tags, never hashed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from batchrun.immutable import immutable

TAG_BATCH = "batchrun.batch"
TAG_KEY = "batchrun.key"
TAG_SPEC = "batchrun.spec"
TAG_RUN = "batchrun.run"
TAG_ATTEMPT = "batchrun.attempt"
TAG_INPUTS = "batchrun.inputs"
TAG_SHA256 = "batchrun.sha256"
TAG_TRIAL = "batchrun.trial"
TAG_PREFIX = "batchrun."

UNRESOLVED_VERSION = "*"
"""Stands for the step version in keys computed before the version is known."""

_HASH_LENGTH = 16
_ITEMS_KEPT = 100_000
"""Encoded parameters a PointHasher keeps: all of a grid's, a bounded part of a points file's."""
_VALUES_KEPT = 10_000
"""Encoded values of one parameter a PointHasher keeps: more are an index or a seed, which
never recur (a grid's axis of 100,000 values would otherwise fill the whole store)."""
_SPEC_FORMAT = 1
_EXACT_FLOAT_LIMIT = 2**53


def _normalise(value: Any) -> Any:
    """JSON-ready copy of ``value``: integral floats become ints, tuples become lists."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {_key(name): item if type(item) in _PLAIN else _normalise(item) for name, item in value.items()}
    if kind is float:
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be written as JSON; use a finite number or a string")
        return int(value) if value.is_integer() and abs(value) < _EXACT_FLOAT_LIMIT else value
    if kind is list or kind is tuple:
        return [_normalise(item) for item in value]
    raise ValueError(f"{kind.__name__} value {value!r} cannot be written as JSON")


_PLAIN = frozenset({str, int, bool, type(None)})
"""Types written as they are: a dict's values of these skip a call (most parameters are)."""


def _key(name: Any) -> str:
    if type(name) is not str:
        raise ValueError(f"mapping key {name!r} is not a string")
    return name


def canonical_json(value: Any) -> str:
    """The one text for a JSON value: sorted keys, no whitespace, normalised numbers.

    ``1.0`` and ``1`` are the same number and encode as ``1``; other floats use Python's
    shortest round-trip form, which is the same on every platform; ``-0.0`` encodes as
    ``0``; NaN and infinities are refused; ``true`` stays distinct from ``1``.
    """
    kind = type(value)
    if kind is str:  # the scalars, written as json.dumps writes them, without its set-up per call
        return _encode_string(value)
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        return _float_text(value)
    if kind is bool or value is None:
        return _LITERALS[value]
    if kind is dict:
        flat = _flat_object(value)
        if flat is not None:
            return flat
    return _ENCODER.encode(_normalise(value))


@functools.lru_cache(maxsize=4096)
def _float_text(value: float) -> str:
    """A float's text, kept: a batch's points, and the rows written of them, repeat few floats."""
    return repr(_normalise(value))


def _flat_object(value: dict[Any, Any]) -> str | None:
    """A mapping of names to scalars (a point's parameters, mostly) written item by item, which
    is twice as fast as the encoder for so few items; None when it holds anything else."""
    try:
        names = sorted(value)
    except TypeError:  # names of several types: refused below, by _normalise
        return None
    parts = []
    for name in names:
        item = value[name]
        if type(name) is not str or type(item) not in _SCALARS:
            return None
        parts.append(f"{_encode_string(name)}:{canonical_json(item)}")
    return "{" + ",".join(parts) + "}"


_encode_string = json.encoder.encode_basestring  # what json.dumps uses with ensure_ascii=False
_LITERALS = {True: "true", False: "false", None: "null"}
_SCALARS = frozenset({str, int, float, bool, type(None)})
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
"""One encoder for every call: json.dumps with these options makes a new one each time."""


def _digest(value: Any) -> str:
    return _hash_text(canonical_json(value))


def _hash_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH_LENGTH]


class PointHasher:
    """The key and spec hash of many points of one step version and revision.

    A batch's points share the function, the version and the revision, so their part of
    the canonical JSON is written once; and the values of its grid's axes recur in many
    points, so each parameter (``"lr":0.1``) is encoded once too. The text hashed is exactly
    :func:`canonical_json` of the documented objects (keys sorted: function, inputs,
    parameters, version; format, key, revision).
    """

    def __init__(self, function: str, version: str, revision: Any = None) -> None:
        self._head = '{"function":' + canonical_json(function)
        self._tail = ',"version":' + canonical_json(version) + "}"
        self._spec_tail = '","revision":' + canonical_json(revision) + "}"
        self._items: dict[tuple[str, type, Any], str] = {}
        """(name, type, value) -> its text: the type keeps 1, 1.0 and true apart."""
        self._kept: Counter[str] = Counter()  # values kept per name

    def key(self, parameters: dict[str, Any], inputs: dict[str, list[str]] | None = None) -> str:
        """16 hex chars naming a point (see :func:`job_key`)."""
        slots = ',"inputs":' + canonical_json(inputs) if inputs else ""
        return _hash_text(f'{self._head}{slots},"parameters":{self._parameters(parameters)}{self._tail}')

    def _parameters(self, parameters: dict[str, Any]) -> str:
        """:func:`canonical_json` of ``parameters``, item by item: the text of each scalar item
        is kept for the points that repeat it (a grid's values recur; an index never does,
        so at most ``_VALUES_KEPT`` values of one name are kept)."""
        try:
            names = sorted(parameters)
        except TypeError:  # names of several types: canonical_json says what is wrong
            return canonical_json(parameters)
        items = []
        for name in names:
            value = parameters[name]
            if type(name) is not str or type(value) not in _SCALARS:
                return canonical_json(parameters)
            item = self._items.get((name, type(value), value))
            if item is None:
                item = f"{_encode_string(name)}:{canonical_json(value)}"
                if len(self._items) < _ITEMS_KEPT and self._kept[name] < _VALUES_KEPT:
                    self._items[name, type(value), value] = item
                    self._kept[name] += 1
            items.append(item)
        return "{" + ",".join(items) + "}"

    def spec(self, key: str) -> str:
        """16 hex chars over the key and the revision (see :func:`spec_hash`)."""
        return _hash_text(f'{{"format":{_SPEC_FORMAT},"key":"{key}{self._spec_tail}')


def job_key(
    function: str, version: str, parameters: dict[str, Any], inputs: dict[str, list[str]] | None = None
) -> str:
    """16 hex chars naming a point: the step function, its version, the parameters and, when
    the point binds input data slots, each slot's input identities (a file's ``sha256:<hex>``,
    a WorkData's ``workdata:<id>``). A point without inputs keeps the hash it always had."""
    return PointHasher(function, version).key(parameters, inputs)


def inputs_tag(inputs: dict[str, list[str]]) -> str:
    """The ``batchrun.inputs`` tag: a short hash per slot, so a plan can name the slot whose
    data changed (``table:1a2b3c4d,config:5e6f7a8b``)."""
    return f"{TAG_INPUTS}=" + ",".join(
        f"{slot}:{_digest(identities)[:8]}" for slot, identities in sorted(inputs.items())
    )


def parse_inputs_tag(value: str) -> dict[str, str]:
    """Slot → short hash from a ``batchrun.inputs`` tag's value (malformed parts skipped)."""
    pairs = (part.split(":", 1) for part in value.split(",") if ":" in part)
    return dict(pairs)


def spec_hash(key: str, revision: Any = None) -> str:
    """16 hex chars over everything that should rerun a finished point: key and revision."""
    return _digest({"format": _SPEC_FORMAT, "key": key, "revision": revision})


def ownership_tags(batch: str, key: str, spec: str, run: str, attempt: int) -> list[str]:
    """The ``batchrun.*`` tags every job batchrun creates carries: the batch that owns it, the
    point's key and spec hashes, the run label and the attempt number."""
    return [
        f"{TAG_BATCH}={batch}",
        f"{TAG_KEY}={key}",
        f"{TAG_SPEC}={spec}",
        f"{TAG_RUN}={run}",
        f"{TAG_ATTEMPT}={attempt}",
    ]


def trial_tag(number: int) -> str:
    """The ``batchrun.trial`` tag: which trial of a search a job is (trials number from 0)."""
    return f"{TAG_TRIAL}={number}"


@immutable
class JobSpec:
    """One fully resolved job of a batch, ready to be planned against the platform."""

    index: int
    name: str
    function: str
    version: str | None
    parameters: dict[str, Any]
    tags: tuple[str, ...]
    key: str
    spec: str
    inputs: tuple[SlotInput, ...] = ()
    """The point's input data slots, in manifest order; empty for a point without inputs."""
    folder: str | None = None
    """The folder (canonical path, ``/sweeps/b1/``) a new job is filed in; None: the root."""

    def input_labels(self) -> dict[str, list[str]]:
        """Slot → its inputs as a person reads them (files with their hash, WorkData, queries)."""
        return {slot.slot: [source.label for source in slot.sources] for slot in self.inputs}

    def input_identities(self) -> dict[str, list[str]]:
        """Slot → the identities of its inputs, what the key hashes (tag queries once resolved)."""
        return {slot.slot: [source.identity for source in slot.sources] for slot in self.inputs}


@dataclass(frozen=True, slots=True)
class InputSource:
    """One input of a slot: a local file (``path`` absolute, ``sha256`` of its content), an
    existing WorkData (``workdata``: id or URL), or a tag query (``tags``, ``media_type``)
    that plan resolves into WorkData."""

    kind: str  # "file", "workdata" or "tags"
    path: str | None = None
    sha256: str | None = None
    workdata: str | None = None
    tags: tuple[str, ...] = ()
    media_type: str | None = None

    @property
    def label(self) -> str:
        """What a person reads: the file and its hash, the WorkData, or the query."""
        if self.kind == "file":
            return f"{self.path} (sha256 {(self.sha256 or '')[:12]})"
        if self.kind == "workdata":
            return self.workdata or ""
        return "tags " + ",".join(self.tags) + (f" media_type {self.media_type}" if self.media_type else "")

    @property
    def identity(self) -> str:
        if self.kind == "file":
            return f"sha256:{self.sha256}"
        if self.kind == "workdata":
            return f"workdata:{workdata_id(self.workdata or '')}"
        return "tags:" + canonical_json({"tags": sorted(self.tags), "media_type": self.media_type})


@dataclass(frozen=True, slots=True)
class SlotInput:
    """What one input data slot of a point gets, in the order written."""

    slot: str
    sources: tuple[InputSource, ...]


def workdata_id(reference: str) -> str:
    """A WorkData's id from its id or URL (the last path segment of the URL)."""
    return reference.rstrip("/").rsplit("/", 1)[-1]
