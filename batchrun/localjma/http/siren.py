"""Siren entities of the local JMA, built exactly as pinexq-client 2.7.0 parses them.

The client is strict: only the Siren keys, only documented property names
(others raise a warning per parse), absolute canonical hrefs, aware datetimes, an exact
``application/vnd.siren+json`` content type without charset, parameterless actions
without ``fields`` and parameterised ones with exactly one JSON field. No ETag or max-age
is ever sent, so the caching client cannot serve stale job states.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from pydantic_core import to_json
from starlette.requests import HTTPConnection
from starlette.responses import Response

from batchrun import __version__
from batchrun.localjma.domain.lifecycle import SLOT_ACTIONS, available_actions, slot_blocker
from batchrun.localjma.domain.queries import DEFAULT_PAGE_SIZE
from batchrun.localjma.domain.slot_declarations import SlotContents, input_slots, is_collection, output_slots
from batchrun.localjma.domain.steps import available_step_actions, deployment_state
from batchrun.localjma.domain.workdata import available_workdata_actions
from batchrun.localjma.http.parameter_types import parameter_type_href
from batchrun.localjma.store.rows import FolderRow, JobRow, StepRow, WorkDataRow

SIREN_MEDIA_TYPE = "application/vnd.siren+json"
API_VERSION = "11.2.0"
USER_GRANTS = ["role:admin", "grant:codeContributor"]
NO_STORE = {"Cache-Control": "no-store"}
UPLOAD_CLASSES = ["FileUploadAction"]
#: The platform's CLI finds an upload by ``FileUploadAction``, pinexq-client its parameter by the other.
UPLOAD_WITH_PARAMETER_CLASSES = ["FileUploadAction", "FileUploadActionWithParameter"]

Entity = dict[str, Any]

#: The parameter type each action takes (None: a parameterless action), by resource.
JOB_ACTION_PARAMETERS: dict[str, str | None] = {
    "SelectProcessing": "SelectProcessingParameters",
    "ConfigureProcessing": "ConfigureProcessingParameters",
    "StartProcessing": None,
    "EditTags": "SetJobTagsParameters",
    "Rename": "RenameJobParameters",
    "Hide": None,
    "UnHide": None,
    "AllowOutputDataDeletion": None,
    "DisallowOutputDataDeletion": None,
    "MoveToFolder": "MoveToFolderParameters",
    "Delete": None,
}
SLOT_ACTION_PARAMETERS: dict[str, str | None] = {
    "SelectWorkData": "SelectWorkDataForDataSlotParameters",
    "SelectWorkDataCollection": "SelectWorkDataCollectionForDataSlotParameters",
    "Clear": None,
}
STEP_ACTION_PARAMETERS: dict[str, str | None] = {
    "EditTags": "SetProcessingStepTagsParameters",
    "Hide": None,
    "UnHide": None,
    "Deprecate": "DeprecatePsActionParameters",
    "Restore": None,
}
WORKDATA_ACTION_PARAMETERS: dict[str, str | None] = {
    "EditTags": "SetTagsWorkDataParameters",
    "Rename": "SetNameWorkDataParameters",
    "EditComment": "SetCommentWorkDataParameters",
    "Hide": None,
    "UnHide": None,
    "MarkAsSecret": None,
    "AllowDeletion": None,
    "DisallowDeletion": None,
    "MoveToFolder": "MoveToFolderParameters",
    "Delete": None,
}
#: pinexq-client's folder queries set fields of this body, so it must hold every part.
FOLDER_QUERY_DEFAULTS: Entity = {
    "Pagination": {"PageSize": DEFAULT_PAGE_SIZE, "PageOffset": 0},
    "SortBy": {"PropertyName": "Path", "SortType": "Ascending"},
    "Filter": {},
}
FOLDER_ACTION_PARAMETERS: dict[str, str | None] = {
    "Rename": "RenameFolderActionParameters",
    "Move": "MoveFolderActionParameters",
    "Delete": None,
}


class SirenResponse(Response):
    media_type = SIREN_MEDIA_TYPE

    def __init__(self, entity: Entity | bytes, status_code: int = 200) -> None:
        body = entity if isinstance(entity, bytes) else encode(entity)
        super().__init__(body, status_code, headers=NO_STORE)


def encode(value: Any) -> bytes:
    """Compact UTF-8 JSON, by pydantic-core's encoder (much faster than ``json`` on query pages)."""
    return to_json(value)


class EncodedPage(NamedTuple):
    """A query page as it is sent, and the href of the page after it (None on the last)."""

    body: bytes
    next_href: str | None


def next_link_header(page: EncodedPage) -> dict[str, str]:
    """A query page's ``next`` link also as an HTTP ``Link`` header (RFC 8288): a client that
    reads headers asks for the next page before it has parsed this one."""
    return {} if page.next_href is None else {"Link": f'<{page.next_href}>; rel="next"'}


def created(location: str) -> Response:
    """What creating actions and queries answer: 201 with the new resource's Location."""
    return Response(status_code=201, headers={"Location": location, **NO_STORE})


def done() -> Response:
    """What non-creating actions answer: 200 (204 or 202 would make the client raise)."""
    return Response(status_code=200, headers=NO_STORE)


@lru_cache(maxsize=64)
def _canonical(scheme: str, host: str) -> str:
    host = host.lower()
    default_port = {"http": ":80", "https": ":443"}.get(scheme)
    if default_port and host.endswith(default_port):
        host = host[: -len(default_port)]
    return f"{scheme}://{host}"


def base_url(connection: HTTPConnection) -> str:
    """``scheme://host[:port]`` as the client addressed this server (lowercase, no default port).

    Hrefs follow the Host header so a client that says ``localhost`` gets ``localhost``
    links; the client compares some of them as strings.
    """
    host = connection.headers.get("host")
    if not host:
        server = connection.scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return _canonical(connection.scope.get("scheme", "http"), host)


def job_href(base: str, job_id: str) -> str:
    """The one place a job URL is made: self links and SSE ``ResourceLink`` must be identical."""
    return f"{base}/api/Job/{job_id}"


def step_href(base: str, step_id: str) -> str:
    return f"{base}/api/ProcessingStep/{step_id}"


def link(rel: str, href: str, media_type: str | None = None) -> Entity:
    return {"rel": [rel], "href": href} if media_type is None else {"rel": [rel], "href": href, "type": media_type}


def parameter_field(href: str, parameters: str, value: Entity | None = None) -> Entity:
    """An action's JSON field: its classes are the parameter type's name and, when the
    server has one, the URL of its schema (the platform's CLI reads it from there);
    ``value`` is the body clients start from (pinexq-client fills in a folder query's)."""
    base = href.split("/api/", 1)[0]  # every action is under the same base as its entity
    schema = parameter_type_href(base, parameters)
    classes = [parameters] if schema is None else [parameters, schema]
    field: Entity = {"name": parameters, "type": "application/json", "class": classes}
    if value is not None:
        field["value"] = value
    return field


def action(name: str, href: str, parameters: str | None = None, value: Entity | None = None) -> Entity:
    """A JSON action; ``parameters`` names its parameter type (one field), None for none."""
    if parameters is None:
        return {"name": name, "method": "POST", "href": href}
    return {
        "name": name,
        "method": "POST",
        "href": href,
        "type": "application/json",
        "fields": [parameter_field(href, parameters, value)],
    }


def upload_action(
    name: str, href: str, accept: str = "application/json", parameters: str | None = None,
    max_bytes: int | None = None,
) -> Entity:
    """A multipart upload (part ``upload-file``); ``parameters`` names an optional JSON form field."""
    file_field: Entity = {"name": "upload-file", "type": "file", "accept": accept, "allowMultiple": False}
    if max_bytes is not None:
        file_field["maxFileSizeBytes"] = max_bytes
    fields = [file_field]
    if parameters is not None:
        fields.append(parameter_field(href, parameters))
    return {
        "name": name,
        "class": UPLOAD_CLASSES if parameters is None else UPLOAD_WITH_PARAMETER_CLASSES,
        "method": "POST",
        "href": href,
        "type": "multipart/form-data",
        "fields": fields,
    }


def entity(
    cls: str,
    properties: dict[str, Any],
    links: list[Entity],
    actions: list[Entity] | None = None,
    entities: list[Entity] | None = None,
    rel: str | None = None,
) -> Entity:
    result: Entity = {"class": [cls], "properties": properties}
    if rel is not None:
        result["rel"] = [rel]
    if entities:
        result["entities"] = entities
    if actions:
        result["actions"] = actions
    result["links"] = links
    return result


# roots


def entry_point(base: str) -> Entity:
    return entity("EntryPoint", {}, [
        link("self", f"{base}/api/EntryPoint"),
        link("Info", f"{base}/api/Info"),
        link("JobsRoot", f"{base}/api/JobsRoot"),
        link("WorkDataRoot", f"{base}/api/WorkDataRoot"),
        link("ProcessingStepsRoot", f"{base}/api/ProcessingStepsRoot"),
        link("FolderRoot", f"{base}/api/FolderRoot"),
    ])


def user(base: str, user_id: str, rel: str | None = None) -> Entity:
    return entity(
        "User", {"UserId": user_id, "UserGrants": USER_GRANTS}, [link("self", f"{base}/api/User/{user_id}")], rel=rel
    )


def info(base: str, user_id: str) -> Entity:
    properties = {
        "ApiVersion": API_VERSION,
        "BuildVersion": f"batchrun-localjma {__version__}",
        "UsedStorageInBytes": 0,
    }
    return entity(
        "Info",
        properties,
        [link("self", f"{base}/api/Info"), link("ApiEventsEndpoint", f"{base}/api/Events")],
        entities=[user(base, user_id, rel="CurrentUser")],
    )


def jobs_root(base: str) -> Entity:
    root = f"{base}/api/JobsRoot"
    return entity(
        "JobsRoot",
        {},
        [link("self", root), link("UsedTags", f"{root}/UsedTags")],
        actions=[
            action("CreateJob", f"{root}/CreateJob", "CreateJobParameters"),
            action("CreateSubJob", f"{root}/CreateSubJob", "CreateSubJobParameters"),
            action("RapidSetupJob", f"{root}/RapidSetupJob", "RapidJobSetupParameters"),
            action("CreateJobQuery", f"{root}/Query", "JobQueryParameters"),
        ],
    )


def steps_root(base: str, all_href: str) -> Entity:
    root = f"{base}/api/ProcessingStepsRoot"
    return entity(
        "ProcessingStepRoot",
        {},
        [link("self", root), link("all", all_href), link("UsedTags", f"{root}/UsedTags")],
        actions=[
            action("CreateProcessingStepQuery", f"{root}/Query", "ProcessingStepQueryParameters"),
            upload_action("RegisterNewProcessingStep", f"{root}/Register"),
        ],
    )


def work_data_root(base: str, all_href: str, max_upload_bytes: int) -> Entity:
    root = f"{base}/api/WorkDataRoot"
    return entity(
        "WorkDataRoot",
        {},
        [link("self", root), link("all", all_href), link("UsedTags", f"{root}/UsedTags")],
        actions=[
            upload_action("Upload", f"{root}/Upload", "*/*", "UploadWorkDataParameters", max_upload_bytes),
            action("CreateWorkDataQuery", f"{root}/Query", "WorkDataQueryParameters"),
            action("CreateWorkDataTagsQuery", f"{root}/TagsQuery", "WorkDataUsedTagsFilterParameter"),
        ],
    )


def used_tags(cls: str, href: str, tags: list[str]) -> Entity:
    return entity(cls, {"Tags": tags}, [link("self", href)])


def query_result(cls: str, properties: dict[str, Any], items: list[bytes | memoryview], links: list[Entity]) -> bytes:
    """``encode(entity(cls, properties, links, entities=...))`` of a query page whose items are
    encoded already, so each kind of item can be encoded by its fastest means: ``items`` are
    pieces whose concatenation is the items' JSON, comma-separated. The page is joined once
    from them: each large buffer in between would be new memory to the OS (it takes back what
    is freed), costing more than writing the page."""
    entities = (b',"entities":[', *items, b"]") if items else ()
    return b"".join((b'{"class":', encode([cls]), b',"properties":', encode(properties), *entities,
                     b',"links":', encode(links), b"}"))


def encode_items(items: list[Entity]) -> list[bytes | memoryview]:
    """Entities as :func:`query_result` takes them."""
    return [memoryview(encode(items))[1:-1]] if items else []


# jobs


#: Each step's ``Processing`` view, with the step it was made of: a ``StepRow`` never changes
#: (an edit makes a new one), so its view is made once, not once for each of its jobs.
_VIEWS: dict[str, tuple[StepRow, dict[str, Any]]] = {}


def _processing_view(step: StepRow) -> dict[str, Any]:
    made = _VIEWS.get(step.id)
    if made is not None and made[0] is step:
        return made[1]
    manifest = step.manifest
    view = {
        "Title": step.function_name,
        "Description": manifest.get("short_description"),
        "FunctionName": step.function_name,
        "Version": step.version,
        "NumberOfInputDataSlots": len(manifest.get("input_dataslots") or ()),
        "NumberOfOutputDataSlots": len(manifest.get("output_dataslots") or ()),
    }
    _VIEWS[step.id] = (step, view)
    return view


def _slot_properties(slot: dict[str, Any]) -> dict[str, Any]:
    return {
        "Name": slot.get("name", ""),
        "Title": slot.get("title"),
        "Description": slot.get("description"),
        "MediaType": slot.get("mediatype"),
    }


def _slots(
    base: str, href: str, row: JobRow, step: StepRow, contents: SlotContents, actions: bool
) -> list[Entity]:
    """InputDataSlot then OutputDataSlot sub-entities, in index order, with their WorkData."""
    inputs = []
    for index, slot in enumerate(input_slots(step)):
        selected = contents.inputs.get(index, [])
        slot_href = f"{href}/InputDataSlot/{index}"
        offered = [
            action(name, f"{slot_href}/{name}", SLOT_ACTION_PARAMETERS[name])
            for name in (SLOT_ACTIONS if actions else ())
            if slot_blocker(row, slot, len(selected), name) is None
        ]
        properties = {**_slot_properties(slot), "IsConfigured": bool(selected)}
        items = [work_data(base, data, rel="Selected", actions=actions) for data in selected]
        inputs.append(entity("InputDataSlot", properties, [], offered, items, rel="InputDataSlot"))
    outputs = [
        entity(
            "OutputDataSlot", _slot_properties(slot), [],
            entities=[
                work_data(base, data, rel="Assigned", actions=actions) for data in contents.outputs.get(index, [])
            ],
            rel="OutputDataSlot",
        )
        for index, slot in enumerate(output_slots(step))
    ]
    return inputs + outputs


def job(
    base: str, row: JobRow, step: StepRow | None, rel: str | None = None, contents: SlotContents | None = None,
    *, actions: bool = True,
) -> Entity:
    """A job; ``contents`` (the WorkData in its slots) is needed when its step has data slots.
    ``actions=False`` leaves out every action (its own, its slots', their WorkData's): a
    read-only item of a query page."""
    href = job_href(base, row.id)
    properties = {
        "Name": row.name,
        "State": row.state,
        "Tags": list(row.tags),
        "Hidden": row.hidden,
        "OutputIsDeletable": row.output_deletable,
        "CreatedAt": row.created_at,
        "StartedAt": row.started_at,
        "CompletedAt": row.completed_at,
        "ErrorDescription": row.error,
        "Result": row.result,
        "ConfiguredParameters": row.parameters,
        "WorkerId": row.worker_id,
        "FolderPath": row.folder_path,
        "Processing": None if step is None else _processing_view(step),
    }
    links = [link("self", href)]
    if step is not None:
        links.append(link("SelectedProcessingStep", step_href(base, step.id)))
    if row.parent_id is not None:
        links.append(link("ParentJob", job_href(base, row.parent_id)))
    if row.folder_id is not None:
        links.append(link("ParentFolder", folder_href(base, row.folder_id)))
    if row.started_at is not None:  # a worker took it: it has a log and a cost
        links += [link("Logs", f"{href}/Logs"), link("Metrics", f"{href}/Metrics")]
    offered = [
        action(name, f"{href}/{name}", JOB_ACTION_PARAMETERS[name])
        for name in (available_actions(row) if actions else ())
    ]
    slots = [] if step is None else _slots(base, href, row, step, contents or SlotContents(), actions)
    return entity("Job", properties, links, offered, slots, rel)


def _text(value: str | None) -> str:
    """A JSON string, or null, exactly as :func:`encode` writes it."""
    return "null" if value is None else encode_basestring(value)


_BOOLEANS = {False: "false", True: "true"}


class _StepPart(NamedTuple):
    """What the read-only items of one step's jobs share, as JSON."""

    step: StepRow | None
    has_slots: bool
    processing: str  # the Processing view
    link: str  # the SelectedProcessingStep link and the comma before it ("" without a step)


def _step_part(base: str, step: StepRow | None) -> _StepPart:
    if step is None:
        return _StepPart(None, False, "null", "")
    has_slots = bool(step.manifest.get("input_dataslots") or step.manifest.get("output_dataslots"))
    link = f',{{"rel":["SelectedProcessingStep"],"href":{encode_basestring(step_href(base, step.id))}}}'
    return _StepPart(step, has_slots, encode(_processing_view(step)).decode(), link)


def read_only_jobs(
    base: str, rows: Sequence[JobRow], step_of: Callable[[str | None], StepRow | None],
    contents: Callable[[JobRow, StepRow], SlotContents],
) -> list[bytes | memoryview]:
    """The items of a job page without their actions, as :func:`query_result` takes them: the
    bytes of ``encode_items([job(base, row, step_of(row.step_id), "item", contents(row, step),
    actions=False) for row in rows])``.

    ``plan``, ``status`` and ``report`` of a large batch read every job in pages of a thousand,
    so the items of a job whose step has no data slots (nearly all) are written as text,
    each step's share once a page; a job whose slots hold WorkData takes the way above."""
    parts: dict[str | None, _StepPart] = {}
    pieces: list[bytes | memoryview] = []
    for row in rows:
        part = parts.get(row.step_id)
        if part is None:
            part = parts[row.step_id] = _step_part(base, step_of(row.step_id))
        if part.step is not None and part.has_slots:
            pieces.append(encode(job(base, row, part.step, "item", contents(row, part.step), actions=False)))
        else:
            pieces.append(_read_only_job(base, row, part).encode())
        pieces.append(b",")
    return pieces[:-1]


def _read_only_job(base: str, row: JobRow, part: _StepPart) -> str:
    """A job without slots and actions, as :func:`job` makes and :func:`encode` writes it."""
    href = encode_basestring(job_href(base, row.id))
    links = f'{{"rel":["self"],"href":{href}}}{part.link}'
    if row.parent_id is not None:
        links += f',{{"rel":["ParentJob"],"href":{encode_basestring(job_href(base, row.parent_id))}}}'
    if row.folder_id is not None:
        links += f',{{"rel":["ParentFolder"],"href":{encode_basestring(folder_href(base, row.folder_id))}}}'
    if row.started_at is not None:
        links += f',{{"rel":["Logs"],"href":{href[:-1]}/Logs"}},{{"rel":["Metrics"],"href":{href[:-1]}/Metrics"}}'
    return (
        f'{{"class":["Job"],"properties":{{"Name":{encode_basestring(row.name)},'
        f'"State":{encode_basestring(row.state)},"Tags":[{",".join(map(encode_basestring, row.tags))}],'
        f'"Hidden":{_BOOLEANS[row.hidden]},"OutputIsDeletable":{_BOOLEANS[row.output_deletable]},'
        f'"CreatedAt":{_text(row.created_at)},"StartedAt":{_text(row.started_at)},'
        f'"CompletedAt":{_text(row.completed_at)},"ErrorDescription":{_text(row.error)},'
        f'"Result":{_text(row.result)},"ConfiguredParameters":{_text(row.parameters)},'
        f'"WorkerId":{_text(row.worker_id)},"FolderPath":{_text(row.folder_path)},'
        f'"Processing":{part.processing}}},"rel":["item"],"links":[{links}]}}'
    )


# processing steps


def _slot_specification(slot: dict[str, Any]) -> dict[str, Any]:
    return {
        **_slot_properties(slot),
        "IsCollection": is_collection(slot),
        "MinSlots": slot.get("minSlots"),
        "MaxSlots": slot.get("maxSlots"),
    }


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def step(base: str, row: StepRow, implemented: bool, rel: str | None = None) -> Entity:
    manifest = row.manifest
    href = step_href(base, row.id)
    properties = {
        "Title": row.function_name,
        "Version": row.version,
        "FunctionName": row.function_name,
        "ShortDescription": manifest.get("short_description"),
        "LongDescription": manifest.get("long_description"),
        "CreatedAt": row.created_at,
        "LastModifiedAt": row.modified_at,
        "ProConVersion": manifest.get("procon_version"),
        "CodeHash": row.code_hash,
        "HasParameters": manifest.get("parameters") is not None,
        "IsPublic": False,
        "Hidden": row.hidden,
        "IsDeprecated": row.deprecated_at is not None,
        "DeprecatedAt": row.deprecated_at,
        "ReasonForDeprecation": row.deprecation_reason,
        "Tags": list(row.tags),
        "ParameterSchema": _json_text(manifest.get("parameters")),
        "DefaultParameters": None,
        "ReturnSchema": _json_text(manifest.get("returns")),
        "InputDataSlotSpecification": [_slot_specification(s) for s in manifest.get("input_dataslots") or ()],
        "OutputDataSlotSpecification": [_slot_specification(s) for s in manifest.get("output_dataslots") or ()],
        "DeploymentState": deployment_state(implemented),
        "Deployment": None,
        "FolderPath": "/",
    }
    links = [link("self", href), link("Download", f"{href}/Download", "application/json")]
    actions = [
        action(name, f"{href}/{name}", STEP_ACTION_PARAMETERS[name]) for name in available_step_actions(row)
    ]
    return entity("ProcessingStep", properties, links, actions, rel=rel)


# work data


def workdata_href(base: str, workdata_id: str) -> str:
    return f"{base}/api/WorkData/{workdata_id}"


def work_data(base: str, row: WorkDataRow, rel: str | None = None, *, actions: bool = True) -> Entity:
    href = workdata_href(base, row.id)
    properties = {
        "Name": row.name,
        "CreatedAt": row.created_at,
        "SizeInBytes": row.size,
        "Tags": list(row.tags),
        "MediaType": row.media_type,
        "Kind": row.kind,
        "Comments": row.comments,
        "IsDeletable": row.deletable,
        "IsUsedAsJobInput": row.used,
        "IsUsedAsTemplateInput": False,
        "Hidden": row.hidden,
        "Secret": row.secret,
        "FolderPath": row.folder_path,
    }
    links = [link("self", href), link("Download", f"{href}/Download", row.media_type)]
    if row.producer_job_id is not None:
        links.append(link("ProducedByJob", job_href(base, row.producer_job_id)))
    if row.producer_step_id is not None:
        links.append(link("ProducedByProcessingStep", step_href(base, row.producer_step_id)))
    if row.folder_id is not None:
        links.append(link("ParentFolder", folder_href(base, row.folder_id)))
    offered = [
        action(name, f"{href}/{name}", WORKDATA_ACTION_PARAMETERS[name])
        for name in (available_workdata_actions(row) if actions else ())
    ]
    return entity("WorkData", properties, links, offered, rel=rel)


# folders


def folder_root_href(base: str) -> str:
    return f"{base}/api/FolderRoot"


def folder_href(base: str, folder_id: str) -> str:
    return f"{base}/api/Folder/{folder_id}"


def folder_root(base: str, all_href: str, children_href: str) -> Entity:
    root = folder_root_href(base)
    return entity(
        "FolderRoot",
        {},
        [link("self", root), link("all", all_href), link("Children", children_href)],
        actions=[
            action("CreateFolder", f"{root}/CreateFolder", "CreateFolderParameters"),
            action("CreateFolderQuery", f"{root}/Query", "FolderQueryParameters", FOLDER_QUERY_DEFAULTS),
        ],
    )


def folder(base: str, row: FolderRow, user_id: str, children_href: str, rel: str | None = None) -> Entity:
    href = folder_href(base, row.id)
    properties = {"OwnerId": user_id, "Name": row.name, "Path": row.path, "ParentId": row.parent_id}
    links = [link("self", href), link("Children", children_href)]
    if row.parent_id is not None:
        links.append(link("Parent", folder_href(base, row.parent_id)))
    actions = [action(name, f"{href}/{name}", parameters) for name, parameters in FOLDER_ACTION_PARAMETERS.items()]
    return entity("Folder", properties, links, actions, rel=rel)
