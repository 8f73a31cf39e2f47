"""Positions of every value and key of a manifest, so any error can name file:line:col."""

from __future__ import annotations

from batchrun.manifest.errors import FieldPath, Location


class SourceMap:
    """Field path → (line, column), 1-based, for values and for mapping keys.

    ``--set`` overrides replace whole subtrees; errors inside them point at the override.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self._values: dict[FieldPath, tuple[int, int]] = {}
        self._keys: dict[FieldPath, tuple[int, int]] = {}
        self._overrides: dict[FieldPath, str] = {}

    def record(self, path: FieldPath, line: int, column: int, *, key: bool = False) -> None:
        """Remember where ``path`` was written; the first position recorded wins."""
        (self._keys if key else self._values).setdefault(path, (line, column))

    def override(self, path: FieldPath, label: str) -> None:
        """Everything at and below ``path`` now comes from the override ``label``."""
        for table in (self._values, self._keys):
            for stale in [known for known in table if known[: len(path)] == path]:
                del table[stale]
        self._overrides[path] = label

    def locate(self, path: FieldPath, *, key: bool = False) -> Location:
        """The closest known position of ``path`` (its key's position when ``key``)."""
        for length in range(len(path), -1, -1):
            prefix = path[:length]
            if prefix in self._overrides:
                return Location(self._overrides[prefix])
            if key and length == len(path) and prefix in self._keys:
                return Location(self.source, *self._keys[prefix])
            if prefix in self._values:
                return Location(self.source, *self._values[prefix])
        return Location(self.source, 1, 1)
