"""Step discovery: procon-format manifests, procon's signature checks, and bad sources."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from batchrun.errors import UsageError
from batchrun.localjma.workers.discovery import discover_steps, load_step_callables
from tests.support import STEPS, STEPS_DIR

BASIC = str(STEPS)
PROCON_MAIN = str(STEPS_DIR / "procon_main.py")
DIALECT = "https://json-schema.org/draft/2020-12/schema"
MANIFEST_KEYS = [
    "version",
    "function_name",
    "short_description",
    "long_description",
    "parameters",
    "returns",
    "input_dataslots",
    "output_dataslots",
    "procon_version",
]


def write(tmp_path: Path, name: str, code: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(code))
    return str(path)


def by_name(sources: list[str]) -> dict[str, dict]:
    return {step.function_name: step.manifest for step in discover_steps(sources)}


def test_plain_function_manifest() -> None:
    steps = discover_steps([BASIC])
    assert [(s.function_name, s.version) for s in steps] == [
        ("echo", "1.0.0"),
        ("add", "1.0.0"),
        ("add_v11", "1.1.0"),
        ("noop", "0.0.0"),
        ("fail", "1.0.0"),
        ("sleep_ms", "1.0.0"),
    ]
    echo = steps[0]
    assert echo.source == BASIC
    assert len(echo.code_hash) == 64
    assert list(echo.manifest) == MANIFEST_KEYS
    assert echo.manifest["short_description"] == "Repeat a text."
    assert echo.manifest["procon_version"].startswith("compat-")
    assert echo.manifest["parameters"] == {
        "$schema": DIALECT,
        "additionalProperties": False,
        "properties": {
            "text": {"description": "what to repeat", "title": "text", "type": "string"},
            "times": {"default": 1, "description": "how often", "title": "times", "type": "integer"},
        },
        "required": ["text"],
        "title": "Parameters",
        "type": "object",
    }
    assert echo.manifest["returns"]["properties"]["value"] == {
        "description": "the repeated text",
        "title": "Value",
        "type": "string",
    }
    assert echo.manifest["returns"]["required"] == ["value"]
    assert echo.manifest["input_dataslots"] == echo.manifest["output_dataslots"] == []


def test_step_without_parameters_has_null_schema() -> None:
    noop = by_name([BASIC])["noop"]
    assert noop["parameters"] is None
    assert noop["returns"]["$schema"] == DIALECT
    assert noop["returns"]["properties"]["value"]["type"] == "null"


def test_step_container_in_a_procon_main_file() -> None:
    manifests = by_name([PROCON_MAIN])
    assert sorted(manifests) == ["count", "kind", "paint", "refuse", "shout"]
    assert manifests["shout"]["version"] == "2.0.0"
    paint = manifests["paint"]
    assert list(paint) == MANIFEST_KEYS
    assert paint["long_description"] == "A longer explanation of painting."
    schema = paint["parameters"]
    assert schema["$defs"]["Color"]["enum"] == ["red", "blue"]
    assert schema["properties"]["color"]["default"] == "red"
    assert schema["properties"]["point"]["$ref"] == "#/$defs/Point"
    assert schema["properties"]["scale"] == {
        "default": 1.0,
        "description": "how large",
        "title": "scale",
        "type": "number",
    }
    assert schema["required"] == ["point"]


def test_dataslots_leave_the_parameter_schema() -> None:
    count = by_name([PROCON_MAIN])["count"]
    assert list(count["parameters"]["properties"]) == ["limit"]
    assert count["input_dataslots"] == [
        {
            "name": "table",
            "title": "table",
            "description": "rows to count",
            "mediatype": "text/csv",
            "metadata": {},
            "minSlots": 1,
            "maxSlots": 1,
        }
    ]
    assert [slot["name"] for slot in count["output_dataslots"]] == ["__returns__"]
    assert count["output_dataslots"][0]["description"] == "the count"
    assert count["returns"]["properties"]["value"]["type"] == "null"


def test_procon_layer_keeps_pinexq_client_importable() -> None:
    code = (
        "from batchrun.localjma.workers.discovery import discover_steps\n"
        f"names = sorted(s.function_name for s in discover_steps([{PROCON_MAIN!r}]))\n"
        "import pinexq.client.job_management, pinexq.procon.step, batchrun\n"
        "assert pinexq.procon.step.Step is batchrun.Step\n"
        "print(names)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['count', 'kind', 'paint', 'refuse', 'shout']"


def test_main_guard_does_not_fire(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    source = write(
        tmp_path,
        "main.py",
        f"""
        from pathlib import Path

        def double(x: int) -> int:
            return 2 * x

        if __name__ == "__main__":
            Path({str(marker)!r}).write_text("ran")
            raise SystemExit(1)
        """,
    )
    assert [s.function_name for s in discover_steps([source])] == ["double"]
    assert not marker.exists()


def test_helpers_imports_and_private_names_are_not_steps(tmp_path: Path) -> None:
    source = write(
        tmp_path,
        "mixed.py",
        """
        from batchrun import Step
        from batchrun.stepkit import version_of

        def helper(x):
            return x

        def _hidden(x: int) -> int:
            return x

        class Base(Step):
            def inherited(self) -> int:
                return 1

        class Leaf(Base):
            def own(self) -> int:
                return 2

        def step(x: int) -> int:
            return helper(x)
        """,
    )
    assert sorted(s.function_name for s in discover_steps([source])) == ["inherited", "own", "step"]


def test_importable_module_name_and_callables() -> None:
    callables = load_step_callables(["tests.steps.basic"])
    assert callables[("echo", "1.0.0")]("ab", times=2) == "abab"
    assert ("add_v11", "1.1.0") in callables


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("def f(x, y: int) -> int:\n    return y\n", "f: parameter 'x' has no type annotation"),
        ("def f(x: int):\n    return x\n", "f: the return value has no type annotation"),
        ("from typing import Any\ndef f(x: Any) -> int:\n    return 1\n", "parameter 'x' is typed Any"),
        ("def f(x: object) -> int:\n    return 1\n", "parameter 'x' is typed object"),
        ("from typing import Any\ndef f(x: int) -> Any:\n    return 1\n", "the return value is typed Any"),
        ("def f(*xs: int) -> int:\n    return 1\n", "*args and **kwargs cannot be step parameters"),
        (
            "from batchrun import Step\nclass S(Step):\n    def m(self, x):\n        return x\n",
            "S.m: parameter 'x' has no type annotation",
        ),
        ("class Thing:\n    pass\ndef f(x: Thing) -> int:\n    return 1\n", "parameter 'x' has a type that JSON schema"),
        ("def f(x: 'Missing') -> int:\n    return 1\n", "cannot resolve type hints: NameError"),
    ],
)
def test_signature_checks(tmp_path: Path, code: str, message: str) -> None:
    source = write(tmp_path, "checked.py", code)
    with pytest.raises(UsageError) as raised:
        discover_steps([source])
    assert message in str(raised.value)
    assert "checked.py" in str(raised.value)


def test_dataslot_must_name_a_parameter(tmp_path: Path) -> None:
    source = write(
        tmp_path,
        "slots.py",
        """
        from pinexq.procon.dataslots import dataslot
        from pinexq.procon.step import Step

        class S(Step):
            @dataslot.input("tabel")
            def m(self, table: str) -> int:
                return 1
        """,
    )
    with pytest.raises(UsageError, match="names 'tabel', which is not a parameter"):
        discover_steps([source])


def test_annotated_field_replaces_the_generated_one(tmp_path: Path) -> None:
    source = write(
        tmp_path,
        "quirk.py",
        """
        from typing import Annotated
        from pydantic import Field

        def f(
            count: Annotated[int, Field(gt=0)] = 5,
            limit: Annotated[int, Field(default=3, description="from the field")] = 9,
        ) -> int:
            '''Quirk.

            :param count: from the docstring
            :param limit: from the docstring too
            '''
            return count
        """,
    )
    schema = by_name([source])["f"]["parameters"]
    assert schema["required"] == ["count"]
    assert schema["properties"]["count"] == {"exclusiveMinimum": 0, "title": "Count", "type": "integer"}
    assert schema["properties"]["limit"] == {
        "default": 3,
        "description": "from the field",
        "title": "Limit",
        "type": "integer",
    }


def test_duplicate_name_and_version_names_both_places(tmp_path: Path) -> None:
    other = write(tmp_path, "other.py", "from batchrun import version\n@version('1.0.0')\ndef echo(text: str) -> str:\n    return text\n")
    with pytest.raises(UsageError) as raised:
        discover_steps([BASIC, other])
    assert f"step echo@1.0.0 is defined twice: in {BASIC}:echo and in {other}:echo" in str(raised.value)
    container = write(
        tmp_path,
        "both.py",
        "from batchrun import Step\ndef run() -> int:\n    return 1\nclass S(Step):\n    def run(self) -> int:\n        return 2\n",
    )
    with pytest.raises(UsageError, match=r"both.py:run and in .*both.py:S.run"):
        discover_steps([container])


def test_code_hash_follows_the_source(tmp_path: Path) -> None:
    path = Path(write(tmp_path, "steps.py", "def f(x: int) -> int:\n    return x\n"))
    first = discover_steps([str(path)])[0].code_hash
    assert discover_steps([str(path)])[0].code_hash == first
    path.write_text("def f(x: int) -> int:\n    return x + 1\n")
    assert discover_steps([str(path)])[0].code_hash != first


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        ("syntax.py", "def f(x: int) -> int\n    return x\n", "SyntaxError"),
        ("missing_dep.py", "import no_such_module_xyz\n", "ModuleNotFoundError: No module named 'no_such_module_xyz'"),
        ("raising.py", "x = 1\nraise RuntimeError('not today')\n", "RuntimeError: not today (at "),
        ("exiting.py", "import sys\nsys.exit(3)\n", "SystemExit: 3"),
        ("empty.py", "def helper(x):\n    return x\n", "no steps found in"),
        (
            "broken_container.py",
            "from batchrun import Step\nclass S(Step):\n    def __init__(self, use_cli: bool = True):\n        raise ValueError('no')\n",
            "cannot create S(use_cli=False)",
        ),
    ],
)
def test_bad_sources(tmp_path: Path, name: str, code: str, message: str) -> None:
    source = write(tmp_path, name, code)
    with pytest.raises(UsageError) as raised:
        discover_steps([source])
    assert message in str(raised.value)
    assert name in str(raised.value)


def test_missing_file_and_module() -> None:
    with pytest.raises(UsageError, match=r"steps file not found: nowhere/steps\.py"):
        discover_steps(["nowhere/steps.py"])
    with pytest.raises(UsageError, match="steps module 'no_such_steps_module' not found"):
        discover_steps(["no_such_steps_module"])

