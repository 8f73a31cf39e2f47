"""The package layering of ARCHITECTURE.md, read from every module's imports (lazy ones
inside functions included). Each rule is one test, named by what it protects."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import ROOT

PACKAGE = ROOT / "batchrun"

RUNNER = (
    "batchrun.apply", "batchrun.plan", "batchrun.report", "batchrun.client", "batchrun.connection",
    "batchrun.steps", "batchrun.selectors", "batchrun.cleanup", "batchrun.manifest", "batchrun.ui",
    "batchrun.cli",
)
SERVERS = ("httpx", "pinexq", "batchrun.client", "batchrun.localjma", "batchrun.connection")
ENGINE = ("batchrun.apply", "batchrun.plan", "batchrun.report", "batchrun.steps", "batchrun.cleanup")
HTTP, DOMAIN, STORE, WORKERS, PORTAL = (
    f"batchrun.localjma.{layer}" for layer in ("http", "domain", "store", "workers", "portal")
)


@dataclass(frozen=True)
class OnlyIn:
    """Only modules under ``allowed`` (folders or files) may import ``modules``."""

    modules: tuple[str, ...]
    allowed: tuple[str, ...]


@dataclass(frozen=True)
class Never:
    """No module under ``folder`` imports any of ``modules``."""

    folder: str
    modules: tuple[str, ...]


RULES: dict[str, OnlyIn | Never] = {
    "only the command line imports click or rich": OnlyIn(("click", "rich"), ("batchrun/cli/",)),
    "only the console script imports the command line": OnlyIn(
        ("batchrun.cli",), ("batchrun/cli/", "batchrun/__main__.py")
    ),
    "only the client and the local JMA speak HTTP or use pinexq-client": OnlyIn(
        ("httpx", "pinexq"), ("batchrun/client/", "batchrun/localjma/")
    ),
    "only the store holds SQL": OnlyIn(("sqlite3",), ("batchrun/localjma/store/",)),
    "only the embedded-server starter and serve start the local JMA": OnlyIn(
        ("batchrun.localjma",), ("batchrun/localjma/", "batchrun/connection.py", "batchrun/cli/")
    ),
    "the local JMA knows nothing of the runner": Never("batchrun/localjma/", RUNNER),
    "a manifest never touches a server": Never("batchrun/manifest/", (*SERVERS, *ENGINE)),
    "the client is the bottom layer of the runner": Never(
        "batchrun/client/", (*ENGINE, "batchrun.manifest", "batchrun.connection", "batchrun.localjma")
    ),
    "the store imports no other layer": Never("batchrun/localjma/store/", (HTTP, DOMAIN, WORKERS)),
    "the domain knows neither HTTP nor the workers": Never("batchrun/localjma/domain/", (HTTP, WORKERS, "starlette")),
    "the HTTP layer never drives the workers": Never("batchrun/localjma/http/", (WORKERS,)),
    "the portal uses the domain, never the workers": Never("batchrun/localjma/portal/", (WORKERS,)),
    "only the composition root mounts the portal": OnlyIn(
        (PORTAL,), ("batchrun/localjma/portal/", "batchrun/localjma/server.py")
    ),
    "workers import no other layer and no server library": Never(
        "batchrun/localjma/workers/", (HTTP, DOMAIN, STORE, "starlette", "uvicorn", "sqlite3", "httpx")
    ),
}


def imported(path: Path) -> set[str]:
    """The absolute module names a source file imports, anywhere in it."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import; the rules read absolute names"
            assert node.module is not None
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _matches(name: str, modules: tuple[str, ...]) -> bool:
    return any(name == top or name.startswith(f"{top}.") for top in modules)


def violations(rule: OnlyIn | Never) -> list[str]:
    """``module imports name`` for every import the rule forbids."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        if isinstance(rule, OnlyIn):
            if where.startswith(rule.allowed):
                continue
            forbidden = rule.modules
        elif where.startswith(rule.folder):
            forbidden = rule.modules
        else:
            continue
        found += [f"{where} imports {name}" for name in sorted(imported(path)) if _matches(name, forbidden)]
    return found


@pytest.mark.parametrize("rule", list(RULES), ids=[name.replace(" ", "-") for name in RULES])
def test_layering(rule: str) -> None:
    assert violations(RULES[rule]) == []


def test_a_broken_rule_is_seen(tmp_path: Path) -> None:
    """The reader finds imports inside functions and ``from package import module`` forms."""
    source = tmp_path / "module.py"
    source.write_text("def late():\n    from batchrun.localjma import http\n    import click\n", encoding="utf-8")
    assert {"batchrun.localjma.http", "click"} <= imported(source)
