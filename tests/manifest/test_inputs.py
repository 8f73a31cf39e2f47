"""The manifest's ``inputs`` and ``variables``: rendering, local checks and identity, no server."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from batchrun.identity import job_key
from batchrun.manifest import ManifestError, expand, load_manifest
from tests.support import run_batchrun

MANIFEST = """version: 1
batch: data
step: {function: summarize, version: "1.0.0"}
inputs:
  table: {file: "data/{{ dataset }}.csv"}
variables: [dataset]
grid:
  dataset: [iris, wine, penguins]
  alpha: [0.1, 1.0]
name: "{{ dataset }}-{{ alpha }}"
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    for name, text in {"iris": "a,b\n1,2\n", "wine": "c\n3\n4\n", "penguins": "d\n"}.items():
        (tmp_path / "data" / f"{name}.csv").write_text(text)
    return tmp_path


def write(folder: Path, text: str = MANIFEST) -> Path:
    path = folder / "m.yaml"
    path.write_text(text)
    return path


def specs(path: Path) -> list:
    return expand(load_manifest(path))


def errors(path: Path) -> str:
    with pytest.raises(ManifestError) as raised:
        expand(load_manifest(path))
    return str(raised.value)


def test_variables_select_files_and_are_never_sent(folder: Path) -> None:
    jobs = specs(write(folder))
    assert [job.parameters for job in jobs] == [{"alpha": 0.1}, {"alpha": 1.0}] * 3
    assert [job.name for job in jobs][:2] == ["iris-0.1", "iris-1.0"]
    (slot,) = jobs[0].inputs
    assert slot.slot == "table"
    (source,) = slot.sources
    assert source.kind == "file" and source.path == str(folder / "data" / "iris.csv")
    assert source.sha256 == hashlib.sha256(b"a,b\n1,2\n").hexdigest()


def test_the_key_holds_the_content_hash_and_a_point_without_inputs_keeps_its_key(folder: Path) -> None:
    jobs = specs(write(folder))
    digest = hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert jobs[0].key == job_key("summarize", "1.0.0", {"alpha": 0.1}, {"table": [f"sha256:{digest}"]})
    assert jobs[0].key != job_key("summarize", "1.0.0", {"alpha": 0.1})
    assert job_key("summarize", "1.0.0", {"alpha": 0.1}, {}) == job_key("summarize", "1.0.0", {"alpha": 0.1})


def test_editing_a_file_changes_only_the_keys_of_its_points(folder: Path) -> None:
    path = write(folder)
    before = [job.key for job in specs(path)]
    (folder / "data" / "wine.csv").write_text("c\n3\n4\n5\n")
    after = [job.key for job in specs(path)]
    assert [b == a for b, a in zip(before, after, strict=True)] == [True, True, False, False, True, True]


def test_renaming_a_file_with_the_same_content_keeps_every_key(folder: Path) -> None:
    before = [job.key for job in specs(write(folder))]
    (folder / "data" / "iris.csv").rename(folder / "data" / "setosa.csv")
    after = [job.key for job in specs(write(folder, MANIFEST.replace("[iris,", "[setosa,")))]
    assert before == after


def test_two_datasets_with_identical_content_are_a_duplicate_point(folder: Path) -> None:
    (folder / "data" / "wine.csv").write_text("a,b\n1,2\n")
    message = errors(write(folder))
    assert "m.yaml:8:" in message
    assert "duplicate point: job 2" in message and "same parameters and inputs as job 0" in message


def test_a_missing_file_is_an_error_at_its_line(folder: Path) -> None:
    (folder / "data" / "penguins.csv").unlink()
    message = errors(write(folder))
    assert "m.yaml:5:" in message
    assert "inputs.table.file: file not found" in message and "penguins.csv" in message


def test_a_path_outside_the_manifest_folder_is_an_error(folder: Path) -> None:
    (folder.parent / "secret.csv").write_text("x\n")
    message = errors(write(folder, MANIFEST.replace('"data/{{ dataset }}.csv"', '"../secret.csv"')
                           .replace("variables: [dataset]\n", "").replace('"{{ dataset }}-', '"{{ dataset }}x-')))
    assert "m.yaml:5:" in message and "outside the manifest's folder" in message


def test_an_unused_variable_is_an_error(folder: Path) -> None:
    text = MANIFEST.replace("variables: [dataset]", "variables: [dataset, alpha]").replace("-{{ alpha }}", "")
    message = errors(write(folder, text))
    assert "m.yaml:6:" in message and "'alpha' is used by no template" in message


def test_a_variable_that_is_no_axis_is_an_error(folder: Path) -> None:
    message = errors(write(folder, MANIFEST.replace("variables: [dataset]", "variables: [dataset, datset]")))
    assert "m.yaml:6:" in message and "'datset' is not a grid axis" in message


def test_an_unknown_field_in_a_binding_is_an_error_at_its_line(folder: Path) -> None:
    text = MANIFEST.replace('{file: "data/{{ dataset }}.csv"}', '{file: "data/{{ dataset }}.csv", fil: x}')
    path = write(folder, text)
    with pytest.raises(ManifestError) as raised:
        load_manifest(path)
    assert "m.yaml:5:" in str(raised.value) and "unknown field 'fil'" in str(raised.value)


def test_a_binding_takes_exactly_one_source(folder: Path) -> None:
    path = write(folder, MANIFEST.replace('{file: "data/{{ dataset }}.csv"}',
                                          '{file: "data/{{ dataset }}.csv", workdata: wd-1}'))
    with pytest.raises(ManifestError) as raised:
        load_manifest(path)
    assert "m.yaml:5:" in str(raised.value) and "exactly one of file, files, workdata or tags" in str(raised.value)


def test_workdata_tags_and_files_bindings(folder: Path) -> None:
    text = """version: 1
batch: data
step: {function: combine, version: "1.0.0"}
inputs:
  tables: {files: ["data/iris.csv", "data/{{ other }}.csv"]}
  config: {workdata: "{{ config }}"}
  refs: {tags: ["kind=reference", "set={{ other }}"], media_type: text/csv}
variables: [other, config]
grid:
  other: [wine, penguins]
  config: [wd-1, "http://jma.test/api/WorkData/wd-2"]
"""
    jobs = specs(write(folder, text))
    assert len(jobs) == 4 and all(job.parameters == {} for job in jobs)
    tables, config, refs = jobs[1].inputs
    assert [source.kind for source in tables.sources] == ["file", "file"]
    assert config.sources[0].identity == "workdata:wd-2"
    assert refs.sources[0].tags == ("kind=reference", "set=wine") and refs.sources[0].media_type == "text/csv"


def test_validate_reports_a_missing_input_file_with_exit_code_2(folder: Path) -> None:
    (folder / "data" / "wine.csv").unlink()
    result = run_batchrun("validate", str(write(folder)), timeout=60)
    assert result.returncode == 2
    assert "m.yaml:5:" in result.stderr and "file not found" in result.stderr


def test_expand_lists_each_points_inputs(folder: Path) -> None:
    import json

    result = run_batchrun("expand", str(write(folder)), "-o", "json", timeout=60)
    assert result.returncode == 0, result.stderr
    first = json.loads(result.stdout)["jobs"][0]
    digest = hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert first["parameters"] == {"alpha": 0.1}
    assert first["inputs"] == {"table": [f"{folder / 'data' / 'iris.csv'} (sha256 {digest[:12]})"]}
