"""The exceptions that decide batchrun's exit codes.

The engine and the commands raise these; the command line (:mod:`batchrun.cli.main`) turns
them into a message on stderr and the exit code the CLI conventions promise (2
usage/manifest, 1 runtime, 130 interrupted).
"""

from __future__ import annotations


class BatchrunError(Exception):
    """A failure the user can act on; its message is shown without a traceback."""

    exit_code = 1


class UsageError(BatchrunError):
    """Bad input: a manifest, an option or an override. Nothing was sent anywhere."""

    exit_code = 2


class PlatformError(BatchrunError):
    """The platform refused a request or could not be reached."""

    exit_code = 1


class MissingExtraError(BatchrunError, ImportError):
    """An optional feature whose pip extra is not installed; says how to install it."""

    def __init__(self, extra: str, feature: str) -> None:
        super().__init__(f"{feature} needs the optional extra {extra!r}: pip install 'batchrun[{extra}]'")
