"""Semantic version ordering and ranges of processing-step queries."""

from __future__ import annotations

import pytest

from batchrun.localjma.domain.semver import is_prerelease, version_key, version_range

VERSIONS = ["0.0.0", "1", "1.2.0", "1.9.0", "1.10.0", "2.0.0-rc1", "2.0.0-rc2", "2.0.0"]


def test_versions_sort_semantically() -> None:
    shuffled = ["1.10.0", "2.0.0", "1", "2.0.0-rc2", "0.0.0", "1.9.0", "2.0.0-rc1", "1.2.0"]

    assert sorted(shuffled, key=version_key) == VERSIONS
    assert version_key("not a version") < version_key("0.0.0")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("*", VERSIONS),
        ("1.9.0", ["1.9.0"]),
        ("1", ["1", "1.2.0", "1.9.0", "1.10.0"]),
        ("1.x", ["1", "1.2.0", "1.9.0", "1.10.0"]),
        ("^1.2", ["1.2.0", "1.9.0", "1.10.0"]),
        ("~1.9", ["1.9.0"]),
        (">=1.9.0 <2", ["1.9.0", "1.10.0"]),
        (">1.9", ["1.10.0", "2.0.0-rc1", "2.0.0-rc2", "2.0.0"]),
        ("<=1.2", ["0.0.0", "1", "1.2.0"]),
        ("0.x || >= 2.0.0", ["0.0.0", "2.0.0"]),
        ("2.0.0-rc1", ["2.0.0-rc1"]),
    ],
)
def test_ranges(spec: str, expected: list[str]) -> None:
    matches = version_range(spec)

    assert [v for v in VERSIONS if matches(v)] == expected


def test_bad_ranges_and_prereleases() -> None:
    with pytest.raises(ValueError, match="'latest'"):
        version_range("latest")
    assert is_prerelease("2.0.0-rc1") and not is_prerelease("2.0.0")
