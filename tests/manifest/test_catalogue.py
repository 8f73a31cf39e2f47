"""The catalogue of broken manifests: each fails with the exact spot and a helpful message."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchrun.manifest import ManifestError, expand, load_manifest
from tests.manifest.catalogue import CASES, HEADER, Case


def _write(folder: Path, case: Case) -> None:
    (folder / "sweep.yaml").write_text((HEADER if case.header else "") + case.body, encoding=case.encoding)
    for name, content in case.files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")


def _errors(case: Case) -> list[str]:
    with pytest.raises(ManifestError) as raised:
        expand(load_manifest("sweep.yaml"))
    return str(raised.value).splitlines()


def test_the_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 30
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_broken_manifest_is_reported_exactly(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, case)
    lines = _errors(case)
    assert len(lines) == len(case.expected), "\n".join(lines)
    for line, (row, column, path, fragment) in zip(lines, case.expected, strict=True):
        where = f"{case.source}:{row}:{column}" if row is not None else case.source
        prefix = f"{where}: " + (f"{path}: " if path else "")
        assert line.startswith(prefix), f"{line!r} does not start with {prefix!r}"
        assert fragment in line, f"{fragment!r} not in {line!r}"
