"""A small procon-compatible layer, so a standard PineXQ ``main.py`` runs unchanged.

Real pinexq-procon does not import on this project's Python, and it is proprietary, so
batchrun re-implements the parts step files import: ``pinexq.procon.step`` (``Step``,
``version``), ``pinexq.procon.core.exceptions``, ``pinexq.procon.dataslots`` and
``pinexq.procon.jobmanagement`` (``get_client``, ``get_job``).
``install()`` registers them under procon's names only when the real package cannot be
imported; ``pinexq`` stays the namespace package that ``pinexq.client`` lives in.
"""

from __future__ import annotations

import importlib
import sys

_ALIASES = {
    "pinexq.procon": __name__,
    "pinexq.procon.step": f"{__name__}.step",
    "pinexq.procon.core": f"{__name__}.core",
    "pinexq.procon.core.exceptions": f"{__name__}.core.exceptions",
    "pinexq.procon.dataslots": f"{__name__}.dataslots",
    "pinexq.procon.jobmanagement": f"{__name__}.jobmanagement",
}


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
    namespace = importlib.import_module("pinexq")
    namespace.procon = sys.modules[__name__]  # type: ignore[attr-defined]
