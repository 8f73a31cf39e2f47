"""A small procon-compatible layer, so a standard PineXQ ``main.py`` runs unchanged.

Real pinexq-procon does not import on this project's Python, and it is proprietary, so
batchrun re-implements the parts step files import: ``pinexq.procon.step`` (``Step``,
``version``), ``pinexq.procon.core.exceptions``, ``pinexq.procon.dataslots`` and
``pinexq.procon.jobmanagement`` (``get_client``, ``get_job``).
``install()`` registers them under procon's names only when the real package cannot be
imported; ``pinexq`` stays the namespace package that ``pinexq.client`` lives in.

Other distributions install into the ``pinexq.procon`` namespace too (``pinexq-procon-io``
ships ``pinexq.procon.io``). So that step files can import them beside this layer, the
installed package's ``__path__`` is namespace-style: this layer's folder first, then every
``pinexq/procon`` folder on ``sys.path``, recomputed as ``sys.path`` changes, so a submodule
the layer does not provide is found where its distribution put it.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator

_ALIASES = {
    "pinexq.procon": __name__,
    "pinexq.procon.step": f"{__name__}.step",
    "pinexq.procon.core": f"{__name__}.core",
    "pinexq.procon.core.exceptions": f"{__name__}.core.exceptions",
    "pinexq.procon.dataslots": f"{__name__}.dataslots",
    "pinexq.procon.jobmanagement": f"{__name__}.jobmanagement",
}


class _ProconPath:
    """``pinexq.procon.__path__``: this layer's folders, then the namespace's other portions."""

    def __init__(self, own: list[str]) -> None:
        self._own = list(own)

    def _entries(self) -> list[str]:
        entries = list(self._own)
        for entry in sys.path:
            folder = os.path.join(entry or os.getcwd(), "pinexq", "procon")
            if folder not in entries and os.path.isdir(folder):
                entries.append(folder)
        return entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries())

    def __len__(self) -> int:
        return len(self._entries())

    def __getitem__(self, index: int) -> str:
        return self._entries()[index]

    def __contains__(self, item: object) -> bool:
        return item in self._entries()

    def append(self, item: str) -> None:
        if item not in self._own:
            self._own.append(item)

    def __repr__(self) -> str:
        return f"_ProconPath({self._entries()!r})"


def install() -> None:
    """Make ``pinexq.procon`` importable: the real package if it works, else this layer."""
    if sys.modules.get("pinexq.procon") is sys.modules[__name__]:
        return
    try:
        importlib.import_module("pinexq.procon.step")
        return
    except Exception:  # procon fails with TypeError on old Pythons, not only ImportError
        pass
    for alias, real in _ALIASES.items():
        sys.modules[alias] = importlib.import_module(real)
    package = sys.modules[__name__]
    if not isinstance(package.__path__, _ProconPath):
        package.__path__ = _ProconPath(list(package.__path__))  # type: ignore[assignment]
    namespace = importlib.import_module("pinexq")
    namespace.procon = sys.modules[__name__]  # type: ignore[attr-defined]
