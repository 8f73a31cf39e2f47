"""The package layering, read from every module's imports: only the command line imports
click or rich, only the client (and the local JMA) imports httpx or pinexq-client, and
nothing but the console script imports the command line."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import ROOT

PACKAGE = ROOT / "batchrun"


def imported(path: Path) -> set[str]:
    """The absolute module names a source file imports, anywhere in it."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def importers(of: tuple[str, ...], *, allowed: tuple[str, ...]) -> list[str]:
    """The modules outside the ``allowed`` folders and files that import a module of ``of``."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        if where.startswith(allowed):
            continue
        if any(name == top or name.startswith(f"{top}.") for name in imported(path) for top in of):
            found.append(where)
    return found


def test_only_the_command_line_imports_click_or_rich():
    assert importers(("click", "rich"), allowed=("batchrun/cli/",)) == []


def test_only_the_client_and_the_local_jma_import_httpx_or_pinexq_client():
    assert importers(("httpx", "pinexq"), allowed=("batchrun/client/", "batchrun/localjma/")) == []


def test_only_the_console_script_imports_the_command_line():
    assert importers(("batchrun.cli",), allowed=("batchrun/cli/", "batchrun/__main__.py")) == []
