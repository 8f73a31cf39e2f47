"""Folders through pinexq-client 2.7.0: create, file jobs and WorkData, query, rename, move, delete."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from pinexq.client.core import ApiException
from pinexq.client.core.exceptions import ClientException
from pinexq.client.job_management import Job, WorkData
from pinexq.client.job_management.model import WorkDataFilterParameter, WorkDataQueryParameters
from pinexq.client.job_management.tool.folder import Folder
from pinexq.client.job_management.tool.workdata import WorkDataQuery

from batchrun.localjma import LocalJMA


@pytest.fixture
def top(client: httpx.Client) -> Folder:
    """A top-level folder no other test uses."""
    return Folder(client).create(name=f"f-{uuid.uuid4().hex[:8]}")


def _job_paths(client: httpx.Client, folder: str, recursive: bool = False) -> list[str]:
    query = {"Filter": {"Folder": folder, "FolderRecursive": recursive}, "SortBy": {"PropertyName": "Name"}}
    page = client.get(client.post("/api/JobsRoot/Query", json=query).headers["location"]).json()
    return [f"{item['properties']['FolderPath']}{item['properties']['Name']}" for item in page.get("entities", [])]


def _workdata_in(client: httpx.Client, folder: str, recursive: bool = False) -> list[WorkData]:
    where = WorkDataFilterParameter(Folder=folder, FolderRecursive=recursive)
    return WorkDataQuery.from_parameters(client, WorkDataQueryParameters(Filter=where)).to_list()


def test_the_entry_point_links_the_folder_root(client: httpx.Client) -> None:
    entry = client.get("/api/EntryPoint").json()
    root = client.get(next(link["href"] for link in entry["links"] if link["rel"] == ["FolderRoot"])).json()

    assert root["class"] == ["FolderRoot"]
    assert {action["name"] for action in root["actions"]} == {"CreateFolder", "CreateFolderQuery"}


def test_jobs_and_workdata_are_filed_moved_and_found_by_folder(client: httpx.Client, top: Folder, tag: str) -> None:
    base = top.folder_hco.path
    inner = Folder(client).create(name="inner", parent=top)
    created = Job(client).create(name="created-in", folder=inner)
    moved = Job(client).create(name="moved-in").move_to_folder(top)
    data = WorkData(client).create(filename="t.csv", mediatype="text/csv", binary=b"a\n", tags=[tag], folder=inner)
    other = WorkData(client).create(filename="u.csv", mediatype="text/csv", binary=b"a\n", tags=[tag])
    other.move_to_folder(top)

    assert inner.folder_hco.path == f"{base}inner/" and inner.folder_hco.parent_id is not None
    assert created.job_hco.folder_path == f"{base}inner/"
    assert created.job_hco.parent_folder_link.get_url() == inner.self_link().get_url()
    assert data.work_data_hco.parent_folder_link.get_url() == inner.self_link().get_url()
    assert Job.from_url(client, moved.self_link().get_url()).job_hco.folder_path == base
    assert data.work_data_hco.folder_path == f"{base}inner/"
    assert _job_paths(client, base) == [f"{base}moved-in"]
    assert _job_paths(client, base, recursive=True) == [f"{base}inner/created-in", f"{base}moved-in"]
    assert {data.work_data_hco.folder_path for data in _workdata_in(client, base, recursive=True)} == {
        base, f"{base}inner/"}

    at_root = Job.from_url(client, moved.self_link().get_url()).move_to_folder(None)
    assert _job_paths(client, base) == []
    assert not Job.from_url(client, at_root.self_link().get_url()).job_hco.parent_folder_link


def test_rename_and_move_carry_the_subtree_and_its_contents(client: httpx.Client, top: Folder) -> None:
    base = top.folder_hco.path
    a, b = Folder(client).create(name="a", parent=top), Folder(client).create(name="b", parent=top)
    deep = Folder(client).create(name="deep", parent=a)
    job = Job(client).create(name="deep-job", folder=deep)

    a.rename("renamed")
    assert Job.from_url(client, job.self_link().get_url()).job_hco.folder_path == f"{base}renamed/deep/"
    Folder.from_url(client, a.self_link().get_url()).move(b)

    assert Folder.from_url(client, deep.self_link().get_url()).folder_hco.path == f"{base}b/renamed/deep/"
    assert Job.from_url(client, job.self_link().get_url()).job_hco.folder_path == f"{base}b/renamed/deep/"
    assert [child.path for child in top.child_folders()] == [f"{base}b/"]
    query = Folder.query(client, path_prefix=base)
    assert [folder.path for folder in query.folders] == [base, f"{base}b/", f"{base}b/renamed/",
                                                         f"{base}b/renamed/deep/"]


def test_refusals_say_what_is_wrong(client: httpx.Client, top: Folder) -> None:
    child = Folder(client).create(name="child", parent=top)
    Job(client).create(name="keeps it busy", folder=child)
    gone = f"{client.base_url}api/Folder/{uuid.uuid4()}"

    with pytest.raises(ApiException, match="409") as not_empty:
        Folder.from_url(client, child.self_link().get_url()).delete()
    with pytest.raises(ApiException, match="409") as taken:
        Folder(client).create(name="child", parent=top)
    with pytest.raises(ApiException, match="409") as into_itself:
        Folder.from_url(client, top.self_link().get_url()).move(child)
    bad_names = [client.post("/api/FolderRoot/CreateFolder", json={"Name": name}) for name in ("a/b", " ", "..")]
    unknown = client.post("/api/JobsRoot/CreateJob", json={"Name": "x", "Folder": gone})

    assert "is not empty" in str(not_empty.value) and "exists already" in str(taken.value)
    assert "cannot move into itself" in str(into_itself.value)
    assert all(answer.status_code == 400 and "one path segment" in answer.json()["detail"] for answer in bad_names)
    assert unknown.status_code == 400 and "Folder: no folder at" in unknown.json()["detail"]


def test_an_empty_folder_is_deleted(client: httpx.Client, top: Folder) -> None:
    child = Folder(client).create(name="empty", parent=top)
    url = child.self_link().get_url()

    child.delete()

    assert client.get(str(url)).status_code == 404
    with pytest.raises((ApiException, ClientException)):
        Folder.from_url(client, url)


def test_outputs_land_in_the_folder_of_their_job(client: httpx.Client, top: Folder, tag: str) -> None:
    text = WorkData(client).create(filename="in.txt", mediatype="text/plain", binary=b"hi", tags=[tag])
    job = Job(client).create(name="shouting", folder=top).select_processing("shout")
    job.assign_input_dataslot(0, work_data_instance=text).start().wait_for_completion(timeout_s=30)

    produced = _workdata_in(client, top.folder_hco.path)

    assert [data.work_data_hco.name for data in produced] == ["loud.txt"]  # what shout writes


def test_folders_survive_a_restart(database: Path) -> None:
    with LocalJMA(database, workers=0) as jma, httpx.Client(base_url=jma.url) as client:
        folder = Folder(client).create(name="kept")
        job_url = Job(client).create(name="filed", folder=folder).self_link().get_url()
    with LocalJMA(database, workers=0) as again, httpx.Client(base_url=again.url) as client:
        assert Job.from_url(client, str(job_url).replace(jma.url, again.url)).job_hco.folder_path == "/kept/"
        assert [f.path for f in Folder.query(client).folders] == ["/kept/"]
