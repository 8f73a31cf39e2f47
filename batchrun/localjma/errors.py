"""Errors about the local JMA's own settings, which its embedder words for its users.

The local JMA names a setting by its ``LocalJMA`` argument (``db_path``, ``port``,
``workers``, ``job_timeout``). A command that takes the setting under another name, such
as a command-line flag, re-words the error with :meth:`SettingError.naming`:
``choose another port`` becomes ``choose another --port``.
"""

from __future__ import annotations

from collections.abc import Mapping

from batchrun.errors import BatchrunError, UsageError


class SettingError(BatchrunError):
    """A setting the local JMA cannot work with; the message is ``before``, the setting, ``after``."""

    def __init__(self, before: str, setting: str, after: str = "") -> None:
        super().__init__(f"{before}{setting}{after}")
        self.before = before
        self.setting = setting
        self.after = after

    def naming(self, names: Mapping[str, str]) -> SettingError:
        """The same error, the setting called what ``names`` calls it (unchanged when it has no name there)."""
        return type(self)(self.before, names.get(self.setting, self.setting), self.after)


class InvalidSetting(SettingError, UsageError):
    """A setting's value is out of range: a usage error (exit code 2)."""
