"""Step discovery: find the steps in user modules and describe them as procon would.

A step source is a Python file (loaded by path under a synthetic module name, never
``__main__``, so an ``if __name__ == "__main__": MySteps()`` guard stays quiet; its folder
goes on ``sys.path`` as when running ``python main.py``) or an importable module name.
Each file is executed afresh on every load, so discovery always sees the file as it is.

What counts as a step:
- a public function defined in the module (not imported into it) that carries type hints;
  functions without any annotation are helpers and are skipped;
- every public bound method (inherited and class methods included, static methods not) of
  each ``Step`` subclass defined in the module, created with ``use_cli=False``. Only the
  most derived classes are created, so a base container and its subclass in one file do
  not define every step twice.

Like procon, every parameter and the return value must be annotated and ``Any``/``object``
are refused. The parameter schema is a pydantic model ``Parameters`` (extra keys
forbidden, lax coercion); its JSON schema, data slots and the ``Returns`` wrapper form a
procon-format manifest. procon's ``Annotated[T, Field(...)]`` quirk is copied on purpose,
so that configure-time validation matches the platform: such a Field replaces the
generated one entirely (no docstring description, pydantic's capitalised title, and the
Python default is dropped unless the Field sets one).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import marshal
import re
import sys
import traceback
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import docstring_parser
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from batchrun import __version__
from batchrun.dataslots import DataSlot, OutputSlot, SlotOptions
from batchrun.errors import UsageError
from batchrun.localjma import procon_compat
from batchrun.localjma.procon_compat.dataslots import DATASLOTS_ATTR, RETURNS, DataSlotSpec
from batchrun.stepkit import Step, version_of

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
PROCON_VERSION = f"compat-{__version__}"
MAX_FUNCTION_NAME_LENGTH = 100
_MODEL_CONFIG = ConfigDict(extra="forbid", strict=False, arbitrary_types_allowed=True)


@dataclass(frozen=True)
class StepDefinition:
    """What the server registers for one step: identity, manifest and code fingerprint."""

    function_name: str
    version: str
    manifest: dict[str, Any]
    code_hash: str
    source: str


@dataclass(frozen=True)
class SlotParameter:
    """A declared data slot and the type of what fills it: the parameter's annotation (the
    return annotation for ``__returns__``). A ``DataSlot`` type receives the slot object itself."""

    spec: DataSlotSpec
    annotation: Any


@dataclass(frozen=True)
class LoadedStep:
    """A step ready to run: its callable, the models that check its inputs and output, and its
    data slots in manifest order (a job addresses them by index)."""

    definition: StepDefinition
    function: Callable[..., Any]
    parameters_model: type[BaseModel]
    returns_model: type[BaseModel]
    input_slots: tuple[SlotParameter, ...] = ()
    output_slots: tuple[SlotParameter, ...] = ()


def discover_steps(sources: Sequence[str]) -> list[StepDefinition]:
    """Every step in ``sources``, in source and definition order."""
    return [step.definition for step in load_steps(sources)]


def load_step_callables(sources: Sequence[str]) -> dict[tuple[str, str], Callable[..., Any]]:
    """The callable of every step in ``sources``, keyed by (function name, version)."""
    return {
        (step.definition.function_name, step.definition.version): step.function
        for step in load_steps(sources)
    }


def load_steps(sources: Sequence[str]) -> list[LoadedStep]:
    """Load every source and build its steps; a name@version defined twice is an error."""
    places: dict[tuple[str, str], str] = {}
    steps: list[LoadedStep] = []
    for source in sources:
        module = load_module(source)
        candidates = list(_candidates(module, source))
        if not candidates:
            raise UsageError(
                f"no steps found in {source}: define public functions with type hints or a "
                "Step subclass (functions without annotations are treated as helpers)"
            )
        for place, function in candidates:
            step = build_step(function, source, place)
            key = (step.definition.function_name, step.definition.version)
            if key in places:
                raise UsageError(
                    f"step {key[0]}@{key[1]} is defined twice: in {places[key]} and in {place}; "
                    "rename one or give it another @version"
                )
            places[key] = place
            steps.append(step)
    return steps


def is_path_source(source: str) -> bool:
    """Whether a step source names a file rather than an importable module."""
    return source.endswith(".py") or "/" in source or "\\" in source


def load_module(source: str) -> ModuleType:
    """Import a step source, with procon's names available to it."""
    procon_compat.install()
    if is_path_source(source):
        return _load_file(source)
    try:
        return importlib.import_module(source)
    except ModuleNotFoundError as error:
        if error.name is not None and (source + ".").startswith(error.name + "."):
            raise UsageError(
                f"steps module {source!r} not found: give a file path ending in .py or a "
                "module importable from the current environment"
            ) from error
        raise UsageError(f"cannot import steps module {source}: {_describe(error)}") from error
    except (Exception, SystemExit) as error:
        raise UsageError(f"cannot import steps module {source}: {_describe(error)}") from error


def _load_file(source: str) -> ModuleType:
    path = Path(source).resolve()
    if not path.is_file():
        raise UsageError(f"steps file not found: {source} (resolved to {path})")
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    name = f"batchrun_steps_{re.sub(r'[^0-9A-Za-z_]', '_', path.stem)}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot load steps file {source}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as error:
        del sys.modules[name]
        raise UsageError(f"cannot import steps file {source}: {_describe(error)}") from error
    return module


def _describe(error: BaseException) -> str:
    """The original error text, with the line that raised it (a SyntaxError names its own)."""
    text = f"{type(error).__name__}: {error}"
    frames = traceback.extract_tb(error.__traceback__)
    if frames and not isinstance(error, SyntaxError):
        text += f" (at {frames[-1].filename}:{frames[-1].lineno})"
    return text


def _step_bases() -> tuple[type, ...]:
    """batchrun's ``Step`` and, when the real procon is importable, procon's own."""
    procon_step = sys.modules.get("pinexq.procon.step")
    other = getattr(procon_step, "Step", Step)
    return (Step,) if other is Step else (Step, other)


def _candidates(module: ModuleType, source: str) -> Iterator[tuple[str, Callable[..., Any]]]:
    """(place, callable) of every step in the module; place reads ``source:qualname``."""
    bases = _step_bases()
    containers: list[type] = []
    for name, value in vars(module).items():
        if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(value) and value.__annotations__:
            yield f"{source}:{name}", value
        elif inspect.isclass(value) and issubclass(value, bases):
            containers.append(value)
    for container in containers:
        if any(other is not container and issubclass(other, container) for other in containers):
            continue
        try:
            instance = container(use_cli=False)
        except Exception as error:
            raise UsageError(
                f"cannot create {container.__name__}(use_cli=False) from {source}: {_describe(error)}"
            ) from error
        for name, method in inspect.getmembers(instance, inspect.ismethod):
            if not name.startswith("_") and not any(hasattr(base, name) for base in bases):
                yield f"{source}:{container.__name__}.{name}", method


def build_step(function: Callable[..., Any], source: str, place: str) -> LoadedStep:
    """Check one step's signature like procon and build its models and manifest."""
    name = function.__name__
    if len(name) > MAX_FUNCTION_NAME_LENGTH:
        raise UsageError(f"{place}: a step name may have at most {MAX_FUNCTION_NAME_LENGTH} characters")
    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except Exception as error:
        raise UsageError(f"{place}: cannot resolve type hints: {_describe(error)}") from error
    signature = inspect.signature(function)
    doc = docstring_parser.parse(inspect.getdoc(function) or "")
    param_docs = {param.arg_name: param.description for param in doc.params}
    returns_doc = doc.returns.description if doc.returns else None
    slots = _dataslots(function, signature, hints, place)

    fields: dict[str, Any] = {}
    for parameter in signature.parameters.values():
        what = f"parameter '{parameter.name}'"
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise UsageError(f"{place}: {what}: *args and **kwargs cannot be step parameters")
        _check_annotation(hints, parameter.name, place, what)
        if parameter.name not in slots:
            fields[parameter.name] = _field(parameter, hints[parameter.name], param_docs.get(parameter.name))
    _check_annotation(hints, "return", place, "the return value")

    returns_type = None if RETURNS in slots else hints["return"]
    parameters_model, parameters_schema = _model("Parameters", fields, place)
    returns_model, returns_schema = _model(
        "Returns", {"value": (returns_type, Field(description=returns_doc))}, place
    )
    version = version_of(function)
    manifest = {
        "version": version,
        "function_name": name,
        "short_description": doc.short_description or "",
        "long_description": doc.long_description or "",
        "parameters": parameters_schema if fields else None,
        "returns": returns_schema,
        "input_dataslots": [
            _slot_entry(spec, param_docs.get(spec.name)) for spec in slots.values() if spec.direction == "input"
        ],
        "output_dataslots": [
            _slot_entry(spec, returns_doc if spec.name == RETURNS else param_docs.get(spec.name))
            for spec in slots.values()
            if spec.direction == "output"
        ],
        "procon_version": PROCON_VERSION,
    }
    definition = StepDefinition(name, version, manifest, _code_hash(function), source)
    bound = [SlotParameter(spec, hints["return" if spec.name == RETURNS else spec.name]) for spec in slots.values()]
    return LoadedStep(
        definition, function, parameters_model, returns_model,
        tuple(slot for slot in bound if slot.spec.direction == "input"),
        tuple(slot for slot in bound if slot.spec.direction == "output"),
    )


def _check_annotation(hints: dict[str, Any], key: str, place: str, what: str) -> None:
    if key not in hints:
        raise UsageError(f"{place}: {what} has no type annotation; annotate every parameter and the return")
    bare, _ = _unannotated(hints[key])
    if bare is Any or bare is object:
        raise UsageError(f"{place}: {what} is typed {getattr(bare, '__name__', bare)}; use a concrete type")


def _field(parameter: inspect.Parameter, hint: Any, description: str | None) -> Any:
    """A pydantic field definition; an ``Annotated`` Field wins outright (procon's quirk)."""
    if typing.get_origin(hint) is typing.Annotated and any(
        isinstance(item, FieldInfo) for item in hint.__metadata__
    ):
        return hint
    default = ... if parameter.default is parameter.empty else parameter.default
    return (hint, Field(default, title=parameter.name, description=description))


def _model(name: str, fields: dict[str, Any], place: str) -> tuple[type[BaseModel], dict[str, Any]]:
    """The pydantic model and its JSON schema, or an error naming the field at fault."""
    try:
        model = create_model(name, __config__=_MODEL_CONFIG, **fields)
        return model, {"$schema": JSON_SCHEMA_DIALECT, **model.model_json_schema()}
    except Exception as error:
        raise UsageError(
            f"{place}: {_culprit(name, fields)} has a type that JSON schema cannot describe: {error}"
        ) from error


def _culprit(model_name: str, fields: dict[str, Any]) -> str:
    """Name the field whose type breaks model or schema building, for the error message."""
    for key, definition in fields.items():
        try:
            create_model(model_name, __config__=_MODEL_CONFIG, **{key: definition}).model_json_schema()
        except Exception:
            return "the return value" if model_name == "Returns" else f"parameter '{key}'"
    return "the signature"


def _dataslots(
    function: Callable[..., Any], signature: inspect.Signature, hints: dict[str, Any], place: str
) -> dict[str, DataSlotSpec]:
    """Declared slots plus parameters typed ``DataSlot``/``InputSlot``/``OutputSlot`` (details from
    an ``Annotated`` ``SlotOptions``); a slot decorator must name a real parameter."""
    slots: dict[str, DataSlotSpec] = dict(getattr(function, DATASLOTS_ATTR, {}))
    for key in slots:
        if key != RETURNS and key not in signature.parameters:
            raise UsageError(f"{place}: a data slot decorator names '{key}', which is not a parameter")
    for key in signature.parameters:
        bare, metadata = _unannotated(hints.get(key))
        if key in slots or not (inspect.isclass(bare) and issubclass(bare, DataSlot)):
            continue
        options = next((item for item in metadata if isinstance(item, SlotOptions)), SlotOptions())
        direction: Literal["input", "output"] = "output" if issubclass(bare, OutputSlot) else "input"
        slots[key] = DataSlotSpec(
            key, direction, options.media_type, options.title, options.description, None,
            options.min_slots, options.max_slots, tags=options.tags,
        )
    return slots


def _unannotated(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    """A type hint without ``Annotated``, and the ``Annotated`` metadata."""
    if typing.get_origin(hint) is typing.Annotated:
        return hint.__origin__, hint.__metadata__
    return hint, ()


def _slot_entry(spec: DataSlotSpec, doc_text: str | None) -> dict[str, Any]:
    name = spec.alias or spec.name
    return {
        "name": name,
        "title": spec.title or name,
        "description": spec.description or doc_text or "",
        "mediatype": spec.media_type,
        "metadata": {},
        "minSlots": spec.min_slots,
        "maxSlots": spec.max_slots,
    }


def _code_hash(function: Callable[..., Any]) -> str:
    """sha256 of the step's source, or of its bytecode when the source is not available."""
    try:
        return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()
    except (OSError, TypeError):
        code = getattr(function, "__func__", function).__code__
        return hashlib.sha256(marshal.dumps(code)).hexdigest()
