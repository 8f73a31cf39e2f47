"""Manifests that feed input data slots, end to end: the real CLI, a real local JMA, real
workers, WorkData uploaded and counted on the server."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from batchrun.client import Platform
from batchrun.client.uploads import WorkDataStore
from batchrun.identity import TAG_SHA256
from batchrun.localjma import LocalJMA
from tests.support import STEPS_DIR, read_report, running, wait_until

STEPS = STEPS_DIR / "input_steps.py"

SUMMARIZE = """version: 1
batch: {batch}
step: {{function: summarize, version: "1.0.0"}}
inputs:
  table: {{file: "data/{{{{ dataset }}}}.csv"}}
variables: [dataset]
grid:
  dataset: [iris, wine, penguins]
  alpha: [0.1, 1.0]
name: "{{{{ dataset }}}}-{{{{ alpha }}}}"
"""


@pytest.fixture(scope="module")
def jma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalJMA]:
    database = tmp_path_factory.mktemp("jma") / "jma.sqlite3"
    with LocalJMA(database, steps=[str(STEPS)], workers=2) as server:
        yield server


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    return tmp_path


def data(folder: Path, **files: str) -> None:
    for name, text in files.items():
        (folder / "data" / f"{name}.csv").write_text(text)


def write(folder: Path, text: str, name: str = "m.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def run(cli, verb: str, path: Path, jma: LocalJMA, *extra: str):
    return cli([verb, str(path), "--endpoint", jma.url, *extra])


def uploads_of(platform: Platform, *contents: str) -> list[int]:
    """How many WorkData hold each content (found by batchrun's hash tag)."""
    store = WorkDataStore(platform)
    return [
        len(store.find([f"{TAG_SHA256}={hashlib.sha256(text.encode()).hexdigest()}"])) for text in contents
    ]


def results(path: Path, batch: str) -> dict[str, dict]:
    return {row["name"]: row["result"] for row in read_report(path, batch)["jobs"]}


def test_files_are_uploaded_once_and_rerunning_sends_nothing(cli, jma, platform, folder):
    iris, wine, penguins = "a,b\n1,2\n", "c\n3\n4\n", "d\n"
    data(folder, iris=iris, wine=wine, penguins=penguins)
    path = write(folder, SUMMARIZE.format(batch="once"))

    first = run(cli, "apply", path, jma)

    assert first.exit_code == 0, first.stderr
    assert "6 create" in first.stderr and "uploaded 3 input files" in first.stderr
    assert results(path, "once")["wine-1.0"] == {"rows": 3, "first": "c", "alpha": 1.0}
    assert results(path, "once")["penguins-0.1"] == {"rows": 1, "first": "d", "alpha": 0.1}
    assert uploads_of(platform, iris, wine, penguins) == [1, 1, 1]

    again = run(cli, "apply", path, jma)

    assert again.exit_code == 0, again.stderr
    assert "6 unchanged" in again.stderr and "input file" not in again.stderr
    assert uploads_of(platform, iris, wine, penguins) == [1, 1, 1]
    assert len(platform.owned_jobs("once")) == 6


def test_editing_a_file_reruns_only_its_points_and_explain_names_the_slot(cli, jma, platform, folder):
    data(folder, iris="a\n1\n", wine="b\n2\n", penguins="c\n3\n")
    path = write(folder, SUMMARIZE.format(batch="edit"))
    assert run(cli, "apply", path, jma).exit_code == 0
    data(folder, wine="b\n2\n2\n")

    plan = run(cli, "plan", path, jma, "--explain")

    assert "2 create, 4 unchanged, 2 orphaned" in plan.stdout, plan.stdout
    assert plan.stdout.count("input 'table' changed since the point last ran") == 2
    assert plan.stdout.count("its input 'table' changed: point 'wine-") == 2
    assert "+ create wine-0.1" in plan.stdout and "+ create wine-1.0" in plan.stdout
    assert f"input table: {folder / 'data' / 'wine.csv'} (sha256 " in plan.stdout
    applied = run(cli, "apply", path, jma)
    assert applied.exit_code == 0, applied.stderr
    assert "uploaded 1 input file " in applied.stderr
    assert results(path, "edit")["wine-0.1"]["rows"] == 3
    assert results(path, "edit")["iris-0.1"]["rows"] == 2


def test_renaming_a_file_with_the_same_content_reruns_nothing(cli, jma, folder):
    data(folder, iris="r\n1\n", wine="r\n2\n", penguins="r\n3\n")
    path = write(folder, SUMMARIZE.format(batch="rename"))
    assert run(cli, "apply", path, jma).exit_code == 0
    (folder / "data" / "iris.csv").rename(folder / "data" / "setosa.csv")
    write(folder, SUMMARIZE.format(batch="rename").replace("[iris,", "[setosa,").replace(
        '"{{ dataset }}-', '"{{ dataset }}-'))

    plan = run(cli, "plan", path, jma, "--detailed-exitcode")

    assert plan.exit_code == 0, plan.stdout + plan.stderr
    assert "6 unchanged" in plan.stdout


def combine_manifest(batch: str, tables: str, configs: list[str]) -> str:
    return (
        "version: 1\n"
        f"batch: {batch}\n"
        'step: {function: combine, version: "1.0.0"}\n'
        "inputs:\n"
        f"  tables: {tables}\n"
        '  config: {workdata: "{{ config }}"}\n'
        "variables: [config]\n"
        f"grid: {{config: [{', '.join(configs)}]}}\n"
        'name: "{{ batch }}-{{ index }}"\n'
    )


def test_workdata_by_id_by_url_by_tags_and_a_collection_of_files(cli, jma, platform, folder):
    from pinexq.client.job_management import WorkData
    from pinexq.client.job_management.enterjma import create_pinexq_client

    client = create_pinexq_client(jma.url, api_key="local")
    config = WorkData(client).create(filename="c.txt", mediatype="text/plain", binary=b"fast\n")
    config_url = str(config.self_link().get_url())
    config_id = config_url.rsplit("/", 1)[-1]
    for index in range(3):
        WorkData(client).create(filename=f"ref{index}.csv", mediatype="text/csv", binary=b"x\ny\n",
                                tags=["kind=reference", "set=inputs-test"])
    WorkData(client).create(filename="other.txt", mediatype="text/plain", binary=b"z\n",
                            tags=["kind=reference", "set=inputs-test"])
    data(folder, a="1\n", b="1\n2\n")
    files = '{files: ["data/a.csv", "data/b.csv"]}'

    # an id and the URL of one WorkData are the same input: the second point duplicates the first
    twice = write(folder, combine_manifest("twice", files, [config_id, f'"{config_url}"']), "twice.yaml")
    result = run(cli, "apply", twice, jma)
    assert result.exit_code == 2 and "duplicate point: job 1" in result.stderr, result.stderr

    by_id = write(folder, combine_manifest("byid", files, [config_id]), "byid.yaml")
    result = run(cli, "apply", by_id, jma)
    assert result.exit_code == 0, result.stderr
    assert results(by_id, "byid")["byid-0"] == {"tables": 2, "rows": 3, "config": "fast"}

    query = '{tags: ["kind=reference", "set=inputs-test"], media_type: text/csv}'
    tagged = write(folder, combine_manifest("tagged", query, [f'"{config_url}"']), "tagged.yaml")
    result = run(cli, "apply", tagged, jma)
    assert result.exit_code == 0, result.stderr
    assert results(tagged, "tagged")["tagged-0"] == {"tables": 3, "rows": 6, "config": "fast"}
    assert "1 unchanged" in run(cli, "plan", tagged, jma).stdout

    # a new WorkData matching the query changes the point: the query's result is part of its key
    WorkData(client).create(filename="ref3.csv", mediatype="text/csv", binary=b"x\n",
                            tags=["kind=reference", "set=inputs-test"])
    plan = run(cli, "plan", tagged, jma, "--explain")
    assert "1 create" in plan.stdout and "input 'tables' changed" in plan.stdout, plan.stdout


@pytest.mark.parametrize(
    ("binding", "message", "line"),
    [
        ('tabel: {file: "data/{{ dataset }}.csv"}', "has no input slot 'tabel' (did you mean 'table'?)", 5),
        ('table: {files: ["data/iris.csv", "data/{{ dataset }}.csv"]}',
         "gets 2 WorkData for slot 'table', which takes exactly 1", 5),
        ('table: {workdata: "does-not-exist-{{ dataset }}"}', "does not exist", 5),
        ('table: {tags: ["no-such-tag={{ dataset }}"]}', "gets 0 WorkData for slot 'table'", 5),
    ],
)
def test_slot_errors_are_manifest_errors_and_nothing_is_sent(cli, jma, platform, folder, binding, message, line):
    data(folder, iris="1\n", wine="2\n", penguins="3\n")
    text = SUMMARIZE.format(batch="broken").replace('table: {file: "data/{{ dataset }}.csv"}', binding)
    path = write(folder, text)
    before = uploads_of(platform, "1\n", "2\n", "3\n")

    for verb in ("plan", "apply"):
        result = run(cli, verb, path, jma)
        assert result.exit_code == 2, result.stderr
        assert f"m.yaml:{line}:" in result.stderr and message in result.stderr, result.stderr

    assert platform.owned_jobs("broken") == []
    assert uploads_of(platform, "1\n", "2\n", "3\n") == before


def test_a_required_slot_left_unbound_is_an_error(cli, jma, platform, folder):
    data(folder, a="1\n")
    path = write(folder, """version: 1
batch: unbound
step: {function: pair, version: "1.0.0"}
inputs:
  left: {file: data/a.csv}
""")
    result = run(cli, "plan", path, jma)
    assert result.exit_code == 2
    assert "m.yaml:4:" in result.stderr and "input slot 'right' needs at least 1" in result.stderr
    assert platform.owned_jobs("unbound") == []


def test_a_killed_apply_never_uploads_a_file_twice(jma, platform, folder):
    contents = {f"part{n}": (f"{n}," * (1 << 21)) + "\n" for n in range(6)}  # ~4 MiB each
    data(folder, **contents)
    path = write(folder, f"""version: 1
batch: killed
step: {{function: summarize, version: "1.0.0"}}
inputs:
  table: {{file: "data/{{{{ part }}}}.csv"}}
variables: [part]
grid:
  part: [{", ".join(contents)}]
""")
    store = WorkDataStore(platform)
    tags = [f"{TAG_SHA256}={hashlib.sha256(text.encode()).hexdigest()}" for text in contents.values()]

    def uploaded() -> int:
        return sum(bool(store.find([tag])) for tag in tags)

    with running("apply", str(path), "--endpoint", jma.url, "--no-wait", folder=folder) as process:
        wait_until(lambda: uploaded() >= 1 or process.poll() is not None, timeout=60, what="a first upload")
        process.kill()
    killed_at = uploaded()
    with running("apply", str(path), "--endpoint", jma.url, folder=folder) as rerun:
        assert rerun.wait(timeout=120) == 0, (folder / "err.txt").read_text()
    assert killed_at >= 1
    assert [len(store.find([tag])) for tag in tags] == [1] * 6
    assert len(platform.owned_jobs("killed")) == 6


def test_the_rapid_setup_body_with_inputs_and_the_workdata_query_are_the_clients() -> None:
    import json

    from pinexq.client.job_management.model.open_api_generated import (
        InputDataSlotParameter,
        Pagination,
        RapidJobSetupParameters,
        SortTypes,
        WorkDataFilterParameter,
        WorkDataQueryParameters,
        WorkDataSortProperties,
        WorkDataSortPropertiesSortParameter,
    )

    from batchrun.client.uploads import workdata_query_body
    from batchrun.client.wire import rapid_setup_body

    step, data = "http://jma.test/api/ProcessingStep/1", ["http://jma.test/api/WorkData/a", "http://jma.test/api/WorkData/b"]
    ours = rapid_setup_body(name="n", step_url=step, tags=["t"], parameters={"a": 1}, start=True,
                            inputs=[(0, data[:1]), (2, data)])
    theirs = RapidJobSetupParameters(
        name="n", processing_step_url=step, tags=["t"], parameters=json.dumps({"a": 1}), start=True,
        input_data_slots=[InputDataSlotParameter(index=0, work_data_urls=data[:1]),
                          InputDataSlotParameter(index=2, work_data_urls=data)],
    )
    assert json.loads(ours) == json.loads(theirs.model_dump_json(by_alias=True, exclude_none=True))
    query = WorkDataQueryParameters(
        pagination=Pagination(page_size=1000, page_offset=0),
        sort_by=WorkDataSortPropertiesSortParameter(
            property_name=WorkDataSortProperties.created_at, sort_type=SortTypes.ascending
        ),
        filter=WorkDataFilterParameter(tags_by_and=["kind=x"], media_type_contains="text/csv"),
    )
    assert json.loads(workdata_query_body(page_size=1000, tags_by_and=["kind=x"], media_type="text/csv")) == \
        json.loads(query.model_dump_json(by_alias=True, exclude_none=True))


def test_a_large_upload_is_streamed_with_progress_and_found_again_by_its_hash(jma, platform, tmp_path):
    from batchrun.inputs import LARGE_FILE, upload_files
    from batchrun.manifest.inputs import file_sha256

    big = tmp_path / "big.bin"
    with big.open("wb") as stream:
        for _ in range(LARGE_FILE // (1 << 20) + 1):
            stream.write(os.urandom(1 << 20))
    sha = file_sha256(big)
    messages: list[str] = []

    urls = upload_files(platform, {sha: big}, messages.append)

    progress = [message for message in messages if message.startswith("uploading big.bin")]
    assert progress[0].endswith(": 0%") and progress[-1].endswith(": 100%") and len(progress) >= 5
    assert messages[-1] == "uploaded 1 input file (0 already on the platform)"
    assert platform.get(urls[sha] + "/Download") == big.read_bytes()
    again: list[str] = []
    assert upload_files(platform, {sha: big}, again.append) == urls
    assert again == []
