"""``folder:``: a batch files its jobs in a folder (templated like ``name``), made when missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pinexq.client.job_management.tool.folder import Folder

from batchrun.localjma import LocalJMA
from tests.support import read_report, run_batchrun


@pytest.fixture
def client(jma: LocalJMA) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=jma.url) as http:
        yield http


def _folders_of_jobs(client: httpx.Client, batch: str) -> dict[str, str]:
    """Each of the batch's jobs' name → the folder it is filed in."""
    query = {"Filter": {"TagsByAnd": [f"batchrun.batch={batch}"]}, "Pagination": {"PageSize": 100}}
    page = client.get(client.post("/api/JobsRoot/Query", json=query).headers["location"]).json()
    return {item["properties"]["Name"]: item["properties"]["FolderPath"] for item in page.get("entities", [])}


def test_apply_files_every_job_in_the_batch_folder_made_when_missing(cli, jma, client, write_manifest):
    path = write_manifest("filed", grid="a: [1, 2, 3]", extra='folder: "/sweeps/{{ batch }}"\n')

    first = cli(["apply", str(path), "--endpoint", jma.url])
    again = cli(["apply", str(path), "--endpoint", jma.url])

    assert first.exit_code == 0, first.stderr
    assert _folders_of_jobs(client, "filed") == {f"filed-{i}": "/sweeps/filed/" for i in range(3)}
    assert [row["state"] for row in read_report(path, "filed")["jobs"]] == ["Completed"] * 3
    assert again.exit_code == 0 and "3 unchanged" in again.stderr
    assert [folder.path for folder in Folder.query(client, path_prefix="/sweeps/").folders] == [
        "/sweeps/", "/sweeps/filed/"]


def test_the_folder_template_sees_the_point(cli, jma, client, write_manifest):
    path = write_manifest("per-point", grid="a: [1, 2]", extra='folder: "/points/a={{ a }}/"\n')

    result = cli(["apply", str(path), "--endpoint", jma.url])

    assert result.exit_code == 0, result.stderr
    assert _folders_of_jobs(client, "per-point") == {"per-point-0": "/points/a=1/", "per-point-1": "/points/a=2/"}


BAD = """version: 1
batch: bad
step: {{function: add, version: "1.0.0"}}
parameters: {{a: 1, b: 2}}
grid: {{part: ["x", ""]}}
variables: [part]
name: "bad-{{{{ part }}}}-{{{{ index }}}}"
folder: {folder}
"""


@pytest.mark.parametrize(("folder", "message"), [
    ('"sweeps/all"', "bad.yaml:8:9: folder: 'sweeps/all': a folder path must start with '/'"),
    ('"sweeps/{{ batch }}"', "bad.yaml:8:9: folder: renders to 'sweeps/bad' for job 0, but a folder path must start"),
    ('"/sweeps/../up"', "bad.yaml:8:9: folder: '/sweeps/../up': a folder path must have a name between each"),
    ('"/runs/{{ part }}/x"', "bad.yaml:8:9: folder: renders to '/runs//x' for job 1, but a folder path must have"),
])
def test_a_bad_folder_is_named_with_its_line(tmp_path: Path, folder: str, message: str):
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(BAD.format(folder=folder))

    result = run_batchrun("validate", str(manifest), timeout=60)

    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())
