"""The step author's API: ``@version`` rules and the light import."""

import subprocess
import sys

import pytest

from batchrun import Step, version
from batchrun.stepkit import version_of


def test_version_string_and_keywords() -> None:
    @version("1.2.3")
    def a() -> None: ...

    @version(major=3)
    def b() -> None: ...

    @version(minor=2, postfix="rc1")
    def c() -> None: ...

    def d() -> None: ...

    assert [version_of(f) for f in (a, b, c, d)] == ["1.2.3", "3.0.0", "0.2.0-rc1", "0.0.0"]


@pytest.mark.parametrize("bad", ["1.2.3.4", "v1", "1.2-beta.1", "x" * 41])
def test_invalid_versions_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid version"):
        version(bad)


def test_step_accepts_procon_use_cli_flag() -> None:
    assert Step(use_cli=False).step_context is None


def test_import_stays_light() -> None:
    code = "import sys, batchrun; print(sorted(m for m in sys.modules if m.split('.')[0] in {'pydantic','httpx','click','jinja2','yaml','starlette'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
