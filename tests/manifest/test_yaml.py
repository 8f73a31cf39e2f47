"""The YAML reader: YAML 1.2 scalars, positions, merge keys, and bounded aliases."""

from __future__ import annotations

import re

import pytest

from batchrun.manifest import ManifestError
from batchrun.manifest.errors import Location
from batchrun.manifest.yamlread import read_yaml, scalar


def test_scalars_follow_the_yaml_1_2_core_schema() -> None:
    data, _ = read_yaml("a: [1e-3, 010, 0x1f, 0o17, no, on, yes, 2024-01-01, ~, null, True, .inf, '1', 1_000]\n", "t")
    assert data["a"] == [0.001, 10, 31, 15, "no", "on", "yes", "2024-01-01", None, None, True, float("inf"), "1",
                         "1_000"]


def test_csv_cells_read_like_manifest_scalars() -> None:
    assert [scalar(text) for text in ["0.5", "7", "true", "null", "", "x y", "1e3"]] == [0.5, 7, True, None, None,
                                                                                        "x y", 1000.0]


def test_every_value_and_key_has_its_position() -> None:
    _, positions = read_yaml("grid:\n  lr: [0.1, 0.2]\n  depth: {range: [1, 5]}\n", "sweep.yaml")
    assert positions.locate(("grid", "lr", 1)) == Location("sweep.yaml", 2, 13)
    assert positions.locate(("grid", "depth", "range")) == Location("sweep.yaml", 3, 18)
    assert positions.locate(("grid", "depth"), key=True) == Location("sweep.yaml", 3, 3)
    assert positions.locate(("grid", "depth", "missing")) == Location("sweep.yaml", 3, 10)


def test_anchors_and_merge_keys_work_and_explicit_keys_win() -> None:
    data, positions = read_yaml("base: &b {x: 1, y: 2}\nc:\n  y: 3\n  <<: *b\n", "t")
    assert data["c"] == {"x": 1, "y": 3}
    assert positions.locate(("c", "y")) == Location("t", 3, 6)


def test_moderate_alias_reuse_is_fine() -> None:
    text = "a: &a {x: [1, 2, 3]}\n" + "".join(f"k{n}: *a\n" for n in range(200))
    data, _ = read_yaml(text, "t")
    assert len(data) == 201 and data["k199"] == {"x": [1, 2, 3]}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a: !!binary aGVsbG8=\n", "unsupported YAML tag '!!binary'"),
        ("a: !!set {x: null}\n", "unsupported YAML tag '!!set'"),
        ("a: !custom x\n", "unsupported YAML tag '!custom'"),
        ("a: !!int x\n", "'x' is not a valid int"),
        ("a: " + "1" * 5000 + "\n", "is not a valid int"),
        ("a: 1\n<<: 2\n", "a merge key '<<' takes a mapping"),
        ("a:" + " [" * 60 + " ]" * 60 + "\n", "nested deeper than 50 levels"),
    ],
)
def test_unsafe_or_unreadable_values_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(ManifestError, match=re.escape(fragment)):
        read_yaml(text, "t")
