"""WorkData through the real client: upload, download, actions, queries, deletion, limits."""

from __future__ import annotations

import uuid
import warnings
from pathlib import Path

import httpx
import pytest
from pinexq.client.core import ClientException
from pinexq.client.job_management import WorkData
from pinexq.client.job_management.enterjma import enter_jma
from pinexq.client.job_management.model import SetNameWorkDataParameters, WorkDataQueryParameters
from pinexq.client.job_management.model.open_api_generated import (
    SetCommentWorkDataParameters,
    SortTypes,
    WorkDataKind,
    WorkDataSortProperties,
)
from pinexq.client.job_management.tool.workdata import WorkDataQuery

from batchrun.localjma import LocalJMA


def workdata_id(data: WorkData) -> str:
    return str(data.self_link().get_url()).rsplit("/", 1)[-1]


def upload(client: httpx.Client, tag: str, content: bytes = b"a,b\n1,2\n", name: str = "table.csv",
           media_type: str = "text/csv", tags: tuple[str, ...] = ()) -> WorkData:
    return WorkData(client).create(filename=name, mediatype=media_type, binary=content, tags=[tag, *tags])


def forced(client: httpx.Client, data: WorkData, action: str) -> httpx.Response:
    return client.post(f"{data.self_link().get_url()}/{action}", headers={"content-type": "application/json"})


def test_upload_is_stored_on_disk_and_downloads_byte_for_byte(jma: LocalJMA, client: httpx.Client, tag: str) -> None:
    content = bytes(range(256)) * 100
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no extra properties, no content-type mismatch on download
        data = upload(client, tag, content, "blob.bin", "application/octet-stream", ("kind=raw",))
        hco = data.work_data_hco
        assert hco is not None
        assert (hco.name, hco.media_type, hco.size_in_bytes, hco.kind) == (
            "blob.bin", "application/octet-stream", len(content), WorkDataKind.client_upload,
        )
        assert hco.tags == [tag, "kind=raw"]
        assert (hco.is_deletable, hco.is_used_as_job_input, hco.hidden, hco.secret) == (True, False, False, False)
        assert data.download() == content
        text = upload(client, tag, "ä,ö\n".encode(), "umlauts.csv", "text/csv")
        assert text.download() == "ä,ö\n".encode()  # a text/* type gets no charset added
    assert (jma.data_dir / workdata_id(data)).read_bytes() == content
    response = client.get(f"{data.self_link().get_url()}/Download")
    assert response.headers["content-type"] == "application/octet-stream"
    assert "blob.bin" in response.headers["content-disposition"]


def test_json_upload_is_typed_json(client: httpx.Client, tag: str) -> None:
    data = WorkData(client).create(filename="config.json", json={"a": [1, 2]}, tags=[tag])
    assert data.work_data_hco is not None and data.work_data_hco.media_type == "application/json"
    assert data.download() == b'{"a": [1, 2]}'


def test_edit_tags_rename_comment_hide_and_secret(client: httpx.Client, tag: str) -> None:
    data = upload(client, tag)
    data.set_tags([tag, "stage=raw"])
    hco = data.work_data_hco
    assert hco is not None
    hco.rename_action.execute(SetNameWorkDataParameters(NewName="renamed.csv"))
    hco.edit_comment_action.execute(SetCommentWorkDataParameters(Comment="first draft"))
    data.refresh().hide()
    hco = data.work_data_hco
    assert hco is not None
    assert (hco.tags, hco.name, hco.comments, hco.hidden) == ([tag, "stage=raw"], "renamed.csv", "first draft", True)
    assert not hco.hide_action and hco.unhide_action
    data.unhide().mark_as_secret()
    assert data.work_data_hco is not None and data.work_data_hco.secret
    assert not data.work_data_hco.mark_as_secret_action


def test_disallowed_deletion_is_refused_with_the_reason_until_allowed(
    jma: LocalJMA, client: httpx.Client, tag: str
) -> None:
    data = upload(client, tag).disallow_deletion()
    hco = data.work_data_hco
    assert hco is not None and not hco.is_deletable and not hco.delete_action and hco.allow_deletion_action
    refused = forced(client, data, "Delete")
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "deletion is disallowed" in refused.json()["detail"]
    path = jma.data_dir / workdata_id(data)
    assert path.exists()
    link = data.self_link()
    data.allow_deletion().delete()
    assert not link.exists() and not path.exists()


def test_queries_filter_sort_and_page(client: httpx.Client, tag: str) -> None:
    small = upload(client, tag, b"1", "small.txt", "text/plain", ("size=small",))
    upload(client, tag, b"12345", "large.txt", "text/plain", ("size=large",))
    upload(client, tag, b"{}", "doc.json", "application/json")
    upload(client, tag, b"123", "hidden.txt", "text/plain").hide()
    small.disallow_deletion()

    def names(**filters: object) -> list[str]:
        query = WorkDataQuery.create(client, tags_by_and=[tag], **filters)  # type: ignore[arg-type]
        return [d.work_data_hco.name for d in query.to_list() if d.work_data_hco is not None]

    assert WorkDataQuery.create(client, tags_by_and=[tag]).count() == 4
    assert sorted(names(name_contains="LARGE")) == ["large.txt"]
    assert names(media_type_contains="json") == ["doc.json"]
    assert names(show_hidden=True) == ["hidden.txt"]
    assert names(is_deletable=False) == ["small.txt"]
    assert names(tags_by_or=["size=small", "size=large"]) == ["large.txt", "small.txt"]  # newest first
    assert names(sort_by_property_name=WorkDataSortProperties.size_in_bytes, sort_by_sort_type=SortTypes.ascending,
                 show_hidden=False) == ["small.txt", "doc.json", "large.txt"]
    paged = WorkDataQuery.create(client, tags_by_and=[tag], page_size=3)
    assert len(paged.to_list()) == 4 and paged.execute().total_entities == 4
    assert names(is_used=True) == []
    assert WorkDataQuery.create(client, tags_by_and=[tag], created_after=small.work_data_hco.created_at).count() == 3  # type: ignore[union-attr]
    parameters = WorkDataQueryParameters.model_validate({"Filter": {"TagsByAnd": [tag]}, "IncludeRemainingTags": True})
    remaining = WorkDataQuery.from_parameters(client, parameters).execute().remaining_tags
    assert remaining == ["size=large", "size=small"]


def test_used_tags_and_tag_queries(client: httpx.Client, tag: str) -> None:
    upload(client, tag, tags=("color=red",))
    root = enter_jma(client).work_data_root_link.navigate()
    assert {tag, "color=red"} <= set(root.used_tags_link.navigate().tags)
    response = client.post(
        "/api/WorkDataRoot/TagsQuery", json={"RequiredTags": [tag]},
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 201
    assert client.get(response.headers["location"]).json()["properties"]["Tags"] == sorted([tag, "color=red"])


def test_bad_uploads_are_refused_cleanly(client: httpx.Client) -> None:
    def post(part: tuple[str, bytes, str], parameters: str | None = None) -> httpx.Response:
        data = None if parameters is None else {"UploadWorkDataParameters": parameters}
        return client.post("/api/WorkDataRoot/Upload", files={"upload-file": part}, data=data)

    in_folder = post(("x.bin", b"x", "application/octet-stream"), '{"Folder": "http://x/api/Folder/1"}')
    assert in_folder.status_code == 400 and "Folder: no folder at" in in_folder.json()["detail"]
    assert "not a valid media type" in post(("x.bin", b"x", "not a type")).json()["detail"]
    assert post(("x.bin", b"x", "text/plain"), '{"Tags": [" "]}').status_code == 400
    assert post(("x.bin", b"x", "text/plain"), "{not json").status_code == 400
    assert client.get(f"/api/WorkData/{uuid.uuid4()}").status_code == 404
    assert client.get("/api/WorkData/..%2F..%2Fetc%2Fpasswd/Download").status_code == 404


def test_uploads_over_the_limit_get_a_413_problem(database: Path) -> None:
    with LocalJMA(database, workers=0, max_upload_bytes=4096) as server, httpx.Client(base_url=server.url) as client:
        root = enter_jma(client).work_data_root_link.navigate()
        assert root.upload_action is not None and root.upload_action.max_filesize_bytes == 4096
        with pytest.raises(ClientException, match="413"):
            WorkData(client).create(filename="big.bin", binary=b"x" * 10_000)
        assert WorkData(client).create(filename="fits.bin", binary=b"x" * 1000).download() == b"x" * 1000
        assert len(list(server.data_dir.iterdir())) == 1  # the refused upload left nothing behind


def test_workdata_survive_a_restart_and_stray_files_do_not(database: Path) -> None:
    with LocalJMA(database, workers=0) as server, httpx.Client(base_url=server.url) as client:
        kept = workdata_id(WorkData(client).create(filename="keep.txt", mediatype="text/plain", binary=b"kept"))
    stray = server.data_dir / f"{uuid.uuid4()}.part"  # as an upload cut short by a crash leaves it
    stray.write_bytes(b"half")
    with LocalJMA(database, workers=0) as server, httpx.Client(base_url=server.url) as client:
        assert WorkData.from_url(client, httpx.URL(f"{server.url}/api/WorkData/{kept}")).download() == b"kept"
        assert [path.name for path in server.data_dir.iterdir()] == [kept]
