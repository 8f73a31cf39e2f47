"""The embedded local Job-Management API: ``LocalJMA(db_path, steps=...)``.

Worker processes import modules of this package too, so ``LocalJMA`` (and with it
uvicorn and Starlette) is imported only when it is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from batchrun.localjma.server import LocalJMA

__all__ = ["LocalJMA"]


def __getattr__(name: str) -> Any:
    if name == "LocalJMA":
        from batchrun.localjma.server import LocalJMA

        return LocalJMA
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
