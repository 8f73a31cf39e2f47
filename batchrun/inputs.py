"""A manifest's input data slots against the step on the platform: names, counts, tag
queries resolved into WorkData, and (for apply) local files uploaded once by content.

``bind_inputs`` is read-only: plan checks every point's slots against the step's
InputDataSlotSpecification and resolves each tag query to the set of WorkData it matches
(that set is part of the point's key). ``upload_files`` is apply's: each distinct local
file is uploaded at most once per platform (see :mod:`batchrun.client.uploads`).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from batchrun.client import Platform, StepInfo
from batchrun.client.uploads import InputSlotSpec, WorkDataStore, input_slots
from batchrun.identity import (
    TAG_INPUTS,
    InputSource,
    JobSpec,
    SlotInput,
    inputs_tag,
    job_key,
    parse_inputs_tag,
    spec_hash,
    workdata_id,
)
from batchrun.manifest import Manifest
from batchrun.manifest.errors import FieldPath, Issue, ManifestError, did_you_mean, format_path
from batchrun.ui import Notify, silent

TAG_PARAMS = "batchrun.params"
"""On a job with inputs: the hash of its step and parameters alone, so a plan can tell which
old job a point with changed inputs replaces."""
LARGE_FILE = 16 << 20
"""Uploads at least this big report their progress."""
_MAX_REPORTED = 10


def bind_inputs(
    platform: Platform, manifest: Manifest, step: StepInfo, specs: list[JobSpec]
) -> tuple[list[JobSpec], tuple[InputSlotSpec, ...]]:
    """The specs with tag queries resolved (keys recomputed) and the step's input slots;
    a ManifestError (at the manifest's lines) when a slot or a count does not fit."""
    if not manifest.inputs:
        return specs, ()
    slots = input_slots(platform, step.url)
    issues: list[Issue] = []

    def at(path: FieldPath, message: str, *, key: bool = False) -> None:
        if len(issues) < _MAX_REPORTED:
            issues.append(Issue(manifest.locate(path, key=key), format_path(path), message))

    by_name = {slot.name: slot for slot in slots}
    names = [slot.name for slot in slots]
    listing = ", ".join(names) or "none"
    for written in manifest.inputs:
        if written not in by_name:
            at(("inputs", written), f"step {step.function_name}@{step.version} has no input slot {written!r}"
               f"{did_you_mean(written, names)}; its input slots: {listing}", key=True)
    for spec_slot in slots:
        if spec_slot.min_slots > 0 and spec_slot.name not in manifest.inputs:
            at(("inputs",), f"the step's input slot {spec_slot.name!r} needs at least {spec_slot.min_slots} "
               f"WorkData and the manifest binds nothing to it; add inputs.{spec_slot.name}", key=True)
    if issues:
        raise ManifestError(issues)
    store = WorkDataStore(platform)
    specs = _resolve_queries(store, manifest, specs)
    _check_workdata(store, manifest, specs, at)
    reported: set[str] = set()
    for spec in specs:
        for bound in spec.inputs:
            slot = by_name[bound.slot]
            count = len(bound.sources)
            too_few = count < slot.min_slots
            too_many = slot.max_slots is not None and count > slot.max_slots
            if (too_few or too_many) and bound.slot not in reported:
                reported.add(bound.slot)
                wants = (f"exactly {slot.min_slots}" if slot.max_slots == slot.min_slots
                         else f"at least {slot.min_slots}" if slot.max_slots is None
                         else f"{slot.min_slots} to {slot.max_slots}")
                at(("inputs", bound.slot), f"job {spec.index} ({spec.name}) gets {count} WorkData for slot "
                   f"{bound.slot!r}, which takes {wants}")
    if issues:
        raise ManifestError(issues)
    return specs, tuple(slots)


def _resolve_queries(store: WorkDataStore, manifest: Manifest, specs: list[JobSpec]) -> list[JobSpec]:
    """Each tag query becomes the WorkData it matches now (sorted by id); keys follow."""
    found: dict[tuple[tuple[str, ...], str | None], tuple[InputSource, ...]] = {}
    resolved = []
    for spec in specs:
        if not any(source.kind == "tags" for slot in spec.inputs for source in slot.sources):
            resolved.append(spec)
            continue
        inputs = []
        for slot in spec.inputs:
            sources: list[InputSource] = []
            for source in slot.sources:
                if source.kind != "tags":
                    sources.append(source)
                    continue
                query = (source.tags, source.media_type)
                if query not in found:
                    matches = store.find(source.tags, source.media_type)
                    found[query] = tuple(
                        InputSource("workdata", workdata=ref.url)
                        for ref in sorted(matches, key=lambda ref: workdata_id(ref.url))
                    )
                sources += found[query]
            inputs.append(SlotInput(slot.slot, tuple(sources)))
        resolved.append(rekey(spec, tuple(inputs), manifest.revision))
    return resolved


def rekey(spec: JobSpec, inputs: tuple[SlotInput, ...], revision: object) -> JobSpec:
    """``spec`` with other inputs: its key and spec hash recomputed."""
    identities = {slot.slot: [source.identity for source in slot.sources] for slot in inputs}
    key = job_key(spec.function, spec.version or "*", spec.parameters, identities or None)
    return replace(spec, inputs=inputs, key=key, spec=spec_hash(key, revision))


def _check_workdata(
    store: WorkDataStore, manifest: Manifest, specs: Sequence[JobSpec], at: Callable[..., None]
) -> None:
    """Every WorkData named by id or URL exists (one look-up per distinct WorkData)."""
    checked: dict[str, bool] = {}
    for spec in specs:
        for slot in spec.inputs:
            for source in slot.sources:
                if source.kind != "workdata" or source.workdata is None:
                    continue
                url = workdata_url(store.platform, source.workdata)
                if url not in checked:
                    checked[url] = store.exists(url)
                    if not checked[url]:
                        at(("inputs", slot.slot, "workdata"), f"WorkData {source.workdata!r} does not exist at "
                           f"{store.platform.endpoint} (job {spec.index}: {spec.name})")


def workdata_url(platform: Platform, reference: str) -> str:
    """A WorkData's URL from its URL or id (ids are the last segment of ``/api/WorkData/<id>``)."""
    if reference.startswith(("http://", "https://")):
        return reference
    return f"{platform.endpoint}/api/WorkData/{reference}"


def input_tags(spec: JobSpec) -> list[str]:
    """The tags a job with inputs carries besides the ownership tags: a short hash per slot
    and the hash of its step and parameters alone (empty for a point without inputs)."""
    if not spec.inputs:
        return []
    base = job_key(spec.function, spec.version or "*", spec.parameters)
    return [inputs_tag(spec.input_identities()), f"{TAG_PARAMS}={base}"]


def changed_slots(spec: JobSpec, tags: Iterable[str]) -> list[str] | None:
    """The slots whose inputs differ between ``spec`` and a job with ``tags``; None when the
    job is not an earlier version of this point (another step or other parameters)."""
    values = dict(tag.split("=", 1) for tag in tags if "=" in tag)
    base = job_key(spec.function, spec.version or "*", spec.parameters)
    if values.get(TAG_PARAMS) != base or TAG_INPUTS not in values:
        return None
    old = parse_inputs_tag(values[TAG_INPUTS])
    new = parse_inputs_tag(inputs_tag(spec.input_identities()).split("=", 1)[1])
    return sorted(slot for slot in set(old) | set(new) if old.get(slot) != new.get(slot))


# -- apply: uploads ---------------------------------------------------------------------------


def files_to_upload(specs: Iterable[JobSpec]) -> dict[str, Path]:
    """sha256 → one local file with that content, over every file input of ``specs``."""
    files: dict[str, Path] = {}
    for spec in specs:
        for slot in spec.inputs:
            for source in slot.sources:
                if source.kind == "file" and source.sha256 and source.path:
                    files.setdefault(source.sha256, Path(source.path))
    return files


def upload_files(platform: Platform, files: dict[str, Path], notify: Notify = silent) -> dict[str, str]:
    """sha256 → WorkData URL: each file uploaded unless a WorkData with its hash tag exists."""
    store = WorkDataStore(platform)
    urls: dict[str, str] = {}
    uploaded = 0
    for sha256, path in files.items():
        size = path.stat().st_size
        progress = _progress(path, size, notify) if size >= LARGE_FILE else None
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        urls[sha256], sent = store.upload(path, sha256, media_type=media_type, progress=progress)
        uploaded += sent
    if uploaded:
        notify(f"uploaded {uploaded} input file{'s' if uploaded != 1 else ''} "
               f"({len(files) - uploaded} already on the platform)")
    return urls


def _progress(path: Path, size: int, notify: Notify) -> Callable[[int, int], None]:
    shown = [-1]

    def report(sent: int, total: int) -> None:
        tenth = sent * 10 // max(total, 1)
        if tenth != shown[0]:
            shown[0] = tenth
            notify(f"uploading {path.name} ({size / 2**20:.0f} MiB): {tenth * 10}%")

    return report


def slot_urls(
    platform: Platform, spec: JobSpec, slots: Sequence[InputSlotSpec], files: Mapping[str, str]
) -> list[tuple[int, list[str]]]:
    """The ``InputDataSlots`` of a job's RapidSetupJob: slot index → WorkData URLs."""
    index = {slot.name: slot.index for slot in slots}
    selected = []
    for slot in spec.inputs:
        urls = [
            files[source.sha256] if source.kind == "file" and source.sha256 else
            workdata_url(platform, source.workdata or "")
            for source in slot.sources
        ]
        selected.append((index[slot.slot], urls))
    return selected
