"""Which registered version of a step a manifest means.

A pinned ``step.version`` must be registered; without one, exactly one usable version must
exist: deprecated and prerelease versions are never picked automatically, and several
usable ones are ambiguous. The messages list the versions there are.
"""

from __future__ import annotations

from collections.abc import Sequence

from batchrun.client import Platform, StepInfo
from batchrun.errors import UsageError


def resolve_step(platform: Platform, function: str, version: str | None) -> StepInfo:
    """The step a manifest names, as the platform has it; a usage error when there is no single one."""
    steps = platform.steps_named(function)
    if version is not None:
        exact = [step for step in steps if step.version == version]
        if exact:
            return exact[0]
        raise UsageError(
            f"step {function}@{version} is not registered at {platform.endpoint}; "
            f"{_versions_hint(function, steps)}"
        )
    usable = [step for step in steps if not step.deprecated and not _prerelease(step)]
    if len(usable) == 1:
        return usable[0]
    if not usable:
        raise UsageError(
            f"no usable version of step {function!r} at {platform.endpoint} "
            f"(deprecated and prerelease versions are not picked automatically); "
            f"{_versions_hint(function, steps)}"
        )
    raise UsageError(
        f"step {function!r} has several versions at {platform.endpoint} "
        f"({', '.join(step.version or '?' for step in usable)}); "
        f"pin one with step.version in the manifest or --set step.version=VERSION"
    )


def _prerelease(step: StepInfo) -> bool:
    return "-" in step.version.split("+", 1)[0]


def _versions_hint(function: str, steps: Sequence[StepInfo]) -> str:
    if not steps:
        return f"no step named {function!r} is registered (check step.function or local.steps)"
    labels = [(step.version or "?") + (" (deprecated)" if step.deprecated else "") for step in steps]
    return f"available versions: {', '.join(labels)}"
