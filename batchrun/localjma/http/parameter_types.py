"""``/api/ActionParameterTypes/<Type>``: the JSON schema of each action's parameter type.

Every action field names its type and links here (see :func:`.siren.action`), as the
platform does; the platform's CLI reads the schema to type ``--set`` values and to
check a body before sending it. The schemas are generated from the very models that
validate the request bodies (:mod:`.requests`), so what is advertised is what is accepted.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from batchrun.localjma.http import requests as bodies
from batchrun.localjma.http.problems import not_found

ROUTE = "/api/ActionParameterTypes"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: The model that validates each parameter type the local JMA's actions take, by wire name.
PARAMETER_MODELS: dict[str, type[BaseModel]] = {
    "CreateJobParameters": bodies.CreateJob,
    "CreateSubJobParameters": bodies.CreateSubJob,
    "RapidJobSetupParameters": bodies.RapidSetup,
    "JobQueryParameters": bodies.JobQuery,
    "SelectProcessingParameters": bodies.SelectProcessing,
    "SetJobTagsParameters": bodies.EditTags,
    "RenameJobParameters": bodies.Rename,
    "MoveToFolderParameters": bodies.MoveToFolder,
    "SelectWorkDataForDataSlotParameters": bodies.SelectWorkData,
    "SelectWorkDataCollectionForDataSlotParameters": bodies.SelectWorkDataCollection,
    "ProcessingStepQueryParameters": bodies.StepQuery,
    "SetProcessingStepTagsParameters": bodies.EditTags,
    "DeprecatePsActionParameters": bodies.Deprecate,
    "UploadWorkDataParameters": bodies.UploadWorkData,
    "WorkDataQueryParameters": bodies.WorkDataQuery,
    "WorkDataUsedTagsFilterParameter": bodies.WorkDataTagsQuery,
    "SetTagsWorkDataParameters": bodies.EditTags,
    "SetNameWorkDataParameters": bodies.Rename,
    "SetCommentWorkDataParameters": bodies.EditComment,
    "CreateFolderParameters": bodies.CreateFolder,
    "FolderQueryParameters": bodies.FolderQuery,
    "RenameFolderActionParameters": bodies.RenameFolder,
    "MoveFolderActionParameters": bodies.MoveFolder,
}


def parameter_type_href(base: str, name: str) -> str | None:
    """Where the schema of ``name`` is served; None for a type without one (a step's own
    parameters, whose schema is the step's ``ParameterSchema``)."""
    return f"{base}{ROUTE}/{name}" if name in PARAMETER_MODELS else None


@cache
def parameter_schema(name: str) -> dict[str, Any]:
    """The wire-named (PascalCase) Draft 2020-12 schema of one parameter type."""
    schema = PARAMETER_MODELS[name].model_json_schema(by_alias=True)
    return {"$schema": JSON_SCHEMA_DIALECT, **schema, "title": name}


async def get_parameter_type(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in PARAMETER_MODELS:
        raise not_found(f"action parameter type {name}")
    return JSONResponse(parameter_schema(name), headers={"Cache-Control": "no-store"})


routes = [Route(f"{ROUTE}/{{name}}", get_parameter_type)]
