"""A trial's objective: one number read from its job's JSON result by a dotted path.

A path that is missing, or leads to something that is not a finite number, fails that
trial (with a message saying what was found) and never the whole search.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

WHOLE_RESULT = "."


@dataclass(frozen=True)
class Measured:
    """The objective of a finished trial: its value, or why it has none."""

    value: float | None
    error: str | None = None


def measure(result: str | None, path: str) -> Measured:
    """The number at ``path`` (dotted) in the JSON ``result`` text."""
    if not result:
        return Measured(None, f"the job returned no result, so the objective {path!r} is missing")
    try:
        found: Any = json.loads(result)
    except json.JSONDecodeError:
        return Measured(None, f"the job's result is not JSON, so the objective {path!r} is missing")
    if path != WHOLE_RESULT:
        for part in path.split("."):
            if not isinstance(found, dict) or part not in found:
                keys = ", ".join(map(repr, found)) if isinstance(found, dict) else type(found).__name__
                return Measured(None, f"the objective {path!r} is not in the job's result (found: {keys}); "
                                "fix search.objective.result")
            found = found[part]
    if isinstance(found, bool) or not isinstance(found, (int, float)) or not math.isfinite(found):
        return Measured(None, f"the objective {path!r} is {found!r}, not a finite number")
    return Measured(float(found))
