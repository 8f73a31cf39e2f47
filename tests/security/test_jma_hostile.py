"""Hostile requests to the local JMA: each gets the right 4xx problem and changes nothing.

"Changes nothing" is checked on everything the server stores (every job and step with all
their properties, and the used tags), read through the API before and after each request.
"""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from batchrun.localjma import LocalJMA
from batchrun.localjma.http.limits import MAX_JSON_BYTES
from tests.security.conftest import Seeded
from tests.security.support import KEY, snapshot

JSON = "application/json"
BOUNDARY = "hostile-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def multipart(content: bytes, *, part: str = "upload-file", filename: str = "step.json") -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{part}"; filename="{filename}"\r\n'
    return (head + f"Content-Type: {JSON}\r\n\r\n").encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()


@dataclass(frozen=True)
class Hostile:
    id: str
    method: str
    path: str  # {ready}, {pending}, {parent}, {step}: ids of seeded resources
    status: int
    fragment: str
    body: bytes = b""
    content_type: str | None = JSON
    headers: dict[str, str] = field(default_factory=dict)


def _deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


CASES = [
    # -- malformed JSON ----------------------------------------------------------------
    Hostile("json-broken", "POST", "/api/JobsRoot/CreateJob", 400, "not valid JSON", b"{not json"),
    Hostile("json-truncated", "POST", "/api/JobsRoot/RapidSetupJob", 400, "not valid JSON", b'{"Name": "x", "Proc'),
    Hostile("json-not-utf8", "POST", "/api/JobsRoot/CreateJob", 400, "not valid JSON", b"\xff\xfe{}"),
    Hostile("json-array", "POST", "/api/JobsRoot/CreateJob", 400, "valid dictionary", b"[1, 2]"),
    Hostile("json-deep", "POST", "/api/JobsRoot/CreateJob", 400, "nested deeper than 100 levels", _deep(100_000)),
    Hostile("json-deep-below-parser-limit", "POST", "/api/Job/{ready}/ConfigureProcessing", 400,
            "nested deeper than 100 levels", b'{"a": ' + _deep(900) + b"}"),
    Hostile("json-huge-number", "POST", "/api/JobsRoot/Query", 400, "not valid JSON",
            b'{"Pagination": {"PageSize": ' + b"9" * 5000 + b"}}"),
    Hostile("json-infinite-number", "POST", "/api/JobsRoot/Query", 400, "PageSize",
            b'{"Pagination": {"PageSize": 1e999}}'),
    Hostile("page-offset-past-sqlite", "POST", "/api/JobsRoot/Query", 400, "PageOffset",
            b'{"Pagination": {"PageOffset": 100000000000000000000}}'),
    Hostile("parameters-text-deep", "POST", "/api/JobsRoot/RapidSetupJob", 400, "nested deeper than 100 levels",
            b'{"Name": "x", "ProcessingStepUrl": "http://h/api/ProcessingStep/{step}", "Parameters": "'
            + _deep(3000) + b'"}'),
    Hostile("parameters-text-not-json", "POST", "/api/JobsRoot/RapidSetupJob", 400, "Parameters must be JSON",
            b'{"Name": "x", "ProcessingStepUrl": "http://h/api/ProcessingStep/{step}", "Parameters": "{a"}'),
    Hostile("configure-wrong-type", "POST", "/api/Job/{ready}/ConfigureProcessing", 400, "invalid parameters",
            b'{"a": "one", "b": [2]}'),
    Hostile("query-url-damaged", "GET", "/api/JobsRoot/Query?q=!!!%00", 400, "query URL is damaged"),
    # -- wrong content types ---------------------------------------------------------------
    Hostile("type-text", "POST", "/api/JobsRoot/CreateJob", 415, "not text/plain", b'{"Name": "x"}', "text/plain"),
    Hostile("type-form", "POST", "/api/JobsRoot/CreateJob", 415, "as application/json", b"Name=x",
            "application/x-www-form-urlencoded"),
    Hostile("type-missing", "POST", "/api/Job/{ready}/EditTags", 415, "not untyped data", b'{"Tags": []}', None),
    Hostile("type-multipart-to-json-action", "POST", "/api/Job/{ready}/Rename", 415, "as application/json",
            multipart(b'{"NewName": "x"}'), MULTIPART),
    Hostile("type-json-to-upload", "POST", "/api/ProcessingStepsRoot/Register", 415, "as multipart/form-data",
            b'{"version": "1.0.0", "function_name": "sneaky"}'),
    Hostile("upload-no-boundary", "POST", "/api/ProcessingStepsRoot/Register", 400, "boundary",
            b"--x\r\n", "multipart/form-data"),
    Hostile("upload-wrong-part", "POST", "/api/ProcessingStepsRoot/Register", 400, "part named 'upload-file'",
            multipart(b"{}", part="manifest"), MULTIPART),
    Hostile("upload-not-a-manifest", "POST", "/api/ProcessingStepsRoot/Register", 400,
            "not a processing-step manifest", multipart(b'{"function_name": 7}'), MULTIPART),
    Hostile("upload-deep", "POST", "/api/ProcessingStepsRoot/Register", 400, "nested deeper than 100 levels",
            multipart(_deep(5000)), MULTIPART),
    # -- unknown actions and methods ------------------------------------------------------------
    Hostile("action-unknown", "POST", "/api/Job/{ready}/Explode", 404, "action 'Explode' on jobs"),
    Hostile("action-dunder", "POST", "/api/Job/{ready}/__class__", 404, "action '__class__' on jobs"),
    Hostile("action-private", "POST", "/api/Job/{ready}/_delete", 404, "action '_delete' on jobs"),
    Hostile("step-action-unknown", "POST", "/api/ProcessingStep/{step}/Execute", 404, "action 'Execute'"),
    Hostile("action-not-now", "POST", "/api/Job/{pending}/Delete", 409, "wait until it has completed"),
    Hostile("action-start-twice", "POST", "/api/Job/{pending}/StartProcessing", 409, "only a job that is Ready"),
    Hostile("delete-parent", "POST", "/api/Job/{parent}/Delete", 409, "sub-job(s); delete those first"),
    Hostile("method-delete", "DELETE", "/api/Job/{ready}", 405, "is not part of the local JMA API"),
    Hostile("method-put", "PUT", "/api/JobsRoot/CreateJob", 405, "is not part of the local JMA API", b"{}"),
    Hostile("method-get-action", "GET", "/api/Job/{ready}/Delete", 405, "is not part of the local JMA API"),
    # -- path traversal in ids -----------------------------------------------------------------------
    Hostile("id-traversal-encoded", "GET", "/api/Job/..%2F..%2F..%2Fetc%2Fpasswd", 404, "not part of the local JMA"),
    Hostile("id-traversal-dots", "GET", "/api/ProcessingStep/%2e%2e/Download", 404, "does not exist"),
    Hostile("id-traversal-delete", "POST", "/api/Job/..%2F{ready}/Delete", 404, "not part of the local JMA"),
    Hostile("id-nul", "POST", "/api/Job/{ready}%00/Hide", 404, "does not exist"),
    Hostile("url-traversal", "POST", "/api/JobsRoot/CreateSubJob", 400, "ParentJobUrl must be a Job URL",
            b'{"Name": "x", "ParentJobUrl": "file:///api/Job/../../../etc/passwd"}'),
    Hostile("url-other-kind", "POST", "/api/Job/{ready}/SelectProcessing", 400, "ProcessingStepUrl must be",
            b'{"ProcessingStepUrl": "http://h/api/Job/{ready}"}'),
    # -- SQL in ids, filters and sort keys ------------------------------------------------------------
    Hostile("sql-id", "GET", "/api/Job/'%20OR%20'1'='1", 404, "does not exist"),
    Hostile("sql-id-delete", "POST", "/api/Job/x'%20OR%201=1%20--/Delete", 404, "does not exist"),
    Hostile("sql-state", "POST", "/api/JobsRoot/Query", 400, "Filter.State",
            b'{"Filter": {"State": "Completed\' OR 1=1 --"}}'),
    Hostile("sql-sort", "POST", "/api/JobsRoot/Query", 400, "SortBy.PropertyName",
            b'{"SortBy": {"PropertyName": "name; DROP TABLE jobs", "SortType": "Ascending"}}'),
    Hostile("sql-sort-type", "POST", "/api/JobsRoot/Query", 400, "SortBy.SortType",
            b'{"SortBy": {"PropertyName": "Name", "SortType": "ASC; DELETE FROM jobs"}}'),
    Hostile("sql-step-url", "POST", "/api/JobsRoot/RapidSetupJob", 400, "no processing step",
            b'{"Name": "x", "ProcessingStepUrl": "http://h/api/ProcessingStep/x\' OR \'1\'=\'1"}'),
]


def _send(http: httpx.Client, case: Hostile, seeded: Seeded) -> httpx.Response:
    def fill(text: str) -> str:
        return text.format(ready=seeded.ready, pending=seeded.pending, parent=seeded.parent, step=seeded.step)

    body = case.body.replace(b"{step}", seeded.step.encode()).replace(b"{ready}", seeded.ready.encode())
    headers = dict(case.headers)
    if case.content_type is not None:
        headers["content-type"] = case.content_type
    request = http.build_request(case.method, fill(case.path), content=body or None, headers=headers)
    if case.content_type is None:
        request.headers.pop("content-type", None)  # send the body untyped
    return http.send(request)


def assert_problem(response: httpx.Response, status: int, fragment: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status
    assert fragment in problem["detail"], problem
    assert KEY not in response.text


def test_the_catalogue_covers_every_kind_of_hostile_request() -> None:
    assert len({case.id for case in CASES}) == len(CASES) >= 40
    assert {case.status for case in CASES} == {400, 404, 405, 409, 415}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_request_is_refused_and_changes_nothing(case: Hostile, http: httpx.Client, seeded: Seeded) -> None:
    before = snapshot(http)
    assert_problem(_send(http, case, seeded), case.status, case.fragment)
    assert snapshot(http) == before


@pytest.mark.parametrize(
    ("root", "query"),
    [
        ("JobsRoot", {"Filter": {"Name": "' OR '1'='1"}}),
        ("JobsRoot", {"Filter": {"Name": "%"}}),
        ("JobsRoot", {"Filter": {"Name": "x'); DROP TABLE jobs; --"}}),
        ("JobsRoot", {"Filter": {"TagsByAnd": ["seed' OR '1'='1"]}}),
        ("JobsRoot", {"Filter": {"TagsByAnd": ["seed", "x' UNION SELECT tag, job_seq FROM job_tags --"]}}),
        ("JobsRoot", {"Filter": {"TagsByOr": ["') OR 1=1 --", "%"]}}),
        ("JobsRoot", {"Filter": {"ParentJobUrl": "http://h/api/Job/x' OR parent_id IS NOT NULL --"}}),
        ("JobsRoot", {"Filter": {"ProcessingStepUrl": "http://h/api/ProcessingStep/' OR step_id IS NOT NULL --"}}),
        ("ProcessingStepsRoot", {"Filter": {"FunctionName": "' OR 1=1 --", "FunctionNameMatchType": "MatchExact"}}),
        ("ProcessingStepsRoot", {"Filter": {"TagsByOr": ["' OR 1=1 --"]}}),
    ],
)
def test_sql_in_query_filters_matches_nothing(root: str, query: dict[str, object], http: httpx.Client,
                                              seeded: Seeded) -> None:
    before = snapshot(http)
    created = http.post(f"/api/{root}/Query", json=query)
    assert created.status_code == 201, created.text
    page = http.get(created.headers["location"])
    assert page.status_code == 200 and page.json()["properties"]["TotalEntities"] == 0
    assert snapshot(http) == before


def test_tags_with_sql_are_stored_and_found_literally(http: httpx.Client, seeded: Seeded) -> None:
    hostile = ["x'); DROP TABLE job_tags; --", "' OR '1'='1", "%", "seed' --"]
    created = http.post("/api/JobsRoot/CreateJob", json={"Name": "tagged'; DELETE FROM jobs; --"})
    job = created.headers["location"]
    assert http.post(f"{job}/EditTags", json={"Tags": hostile}).status_code == 200

    for tag in hostile:
        found = http.post("/api/JobsRoot/Query", json={"Filter": {"TagsByAnd": [tag]}})
        page = http.get(found.headers["location"]).json()
        assert [item["properties"]["Name"] for item in page["entities"]] == ["tagged'; DELETE FROM jobs; --"]
    seeds = http.post("/api/JobsRoot/Query", json={"Filter": {"TagsByAnd": ["seed"]}})
    assert http.get(seeds.headers["location"]).json()["properties"]["TotalEntities"] == 4
    assert set(hostile) <= set(snapshot(http)["job_tags"]["Tags"])


@pytest.mark.parametrize(
    "credentials",
    [{}, {"x-api-key": "guess"}, {"x-api-key": KEY + "x"}, {"x-api-key": KEY.upper()}, {"x-api-key": KEY[:-1]},
     {"authorization": f"Bearer {KEY}"}, {"x-access-token": KEY}],
    ids=["missing", "wrong", "longer", "other-case", "prefix", "bearer", "access-token"],
)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("POST", "/api/JobsRoot/CreateJob", b'{"Name": "intruder"}'),
     ("POST", "/api/Job/{ready}/EditTags", b'{"Tags": ["owned"]}'),
     ("POST", "/api/Job/{ready}/Delete", b""),
     ("POST", "/api/ProcessingStep/{step}/Hide", b""),
     ("GET", "/api/Job/{ready}", b"")],
    ids=["create", "edit-tags", "delete", "hide-step", "read"],
)
def test_a_missing_or_wrong_api_key_gets_401_and_changes_nothing(
    credentials: dict[str, str], method: str, path: str, body: bytes, guarded: LocalJMA, http: httpx.Client,
    seeded: Seeded,
) -> None:
    before = snapshot(http)
    target = path.format(ready=seeded.ready, step=seeded.step)
    with httpx.Client(base_url=guarded.url) as intruder:
        answer = intruder.request(method, target, content=body or None, headers={"content-type": JSON, **credentials})
        in_query = intruder.request(method, target, params={"x-api-key": KEY}, content=body or None)
    for response in (answer, in_query):
        assert_problem(response, 401, "x-api-key")
    assert snapshot(http) == before


def test_oversized_bodies_get_413_declared_or_streamed(guarded: LocalJMA, http: httpx.Client,
                                                       seeded: Seeded) -> None:
    before = snapshot(http)
    name = b"x" * (MAX_JSON_BYTES + 1)
    declared = http.post("/api/JobsRoot/CreateJob", content=b'{"Name": "' + name + b'"}',
                         headers={"content-type": JSON})
    streamed = http.post("/api/JobsRoot/CreateJob", content=iter([b'{"Name": "', name, b'"}']),
                         headers={"content-type": JSON})
    manifest = http.post("/api/ProcessingStepsRoot/Register", content=multipart(b" " * (MAX_JSON_BYTES + 1)),
                         headers={"content-type": MULTIPART})
    for response in (declared, streamed, manifest):
        assert_problem(response, 413, f"larger than the {MAX_JSON_BYTES:,} bytes")
    assert snapshot(http) == before


def test_a_huge_declared_upload_is_refused_before_it_is_sent(guarded: LocalJMA, http: httpx.Client) -> None:
    """The server answers from the headers alone; the client never has to send the gigabyte."""
    before = snapshot(http)
    address = urlsplit(guarded.url)
    head = (
        f"POST /api/ProcessingStepsRoot/Register HTTP/1.1\r\nHost: {address.netloc}\r\nx-api-key: {KEY}\r\n"
        f"Content-Type: {MULTIPART}\r\nContent-Length: {2**30}\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(head.encode())
        answer = connection.recv(65536).decode()
    assert answer.startswith("HTTP/1.1 413 "), answer
    assert "application/problem+json" in answer
    assert snapshot(http) == before


TRAVERSING_NAMES = ["../../../../{root}/pwned.json", "{root}/pwned.json", "..\\..\\pwned.json",
                    "%2e%2e%2fpwned.json", "pwned.json\x00.txt"]


def _server_files(guarded: LocalJMA) -> list[Path]:
    return [path for path in guarded.db_path.parent.rglob("*") if path.is_file()]


def _is_id(name: str) -> bool:
    try:
        return str(uuid.UUID(name)) == name
    except ValueError:
        return False


def assert_stored_under_ids(guarded: LocalJMA) -> None:
    """Every file the server keeps is its database or content named by a WorkData id."""
    database = guarded.db_path.name
    files = _server_files(guarded)
    assert guarded.db_path in files, f"not the server's folder: {files}"
    assert [path for path in files if not path.name.startswith(database) and not _is_id(path.name)] == []


@pytest.mark.parametrize("filename", TRAVERSING_NAMES)
def test_step_upload_file_names_are_never_paths(filename: str, http: httpx.Client, guarded: LocalJMA,
                                                tmp_path: Path) -> None:
    name = f"named_by_manifest_{uuid.uuid4().hex[:8]}"
    content = f'{{"version": "1.0.0", "function_name": "{name}", "returns": {{}}}}'.encode()
    upload = http.post("/api/ProcessingStepsRoot/Register", headers={"content-type": MULTIPART},
                       content=multipart(content, filename=filename.format(root=tmp_path)))

    assert upload.status_code == 201, upload.text
    step = http.get(upload.headers["location"]).json()["properties"]
    assert step["FunctionName"] == name
    assert not any(tmp_path.iterdir())
    assert_stored_under_ids(guarded)
    assert not Path("pwned.json").exists() and not Path("../pwned.json").exists()


@pytest.mark.parametrize("filename", TRAVERSING_NAMES)
def test_workdata_upload_file_names_are_never_paths(filename: str, http: httpx.Client, guarded: LocalJMA,
                                                    tmp_path: Path) -> None:
    given = filename.format(root=tmp_path)
    upload = http.post("/api/WorkDataRoot/Upload", files={"upload-file": (given, b"content", "text/plain")})

    assert upload.status_code == 201, upload.text
    data = upload.headers["location"]
    assert http.get(f"{data}/Download").content == b"content"
    assert not any(tmp_path.iterdir())
    assert_stored_under_ids(guarded)
    assert not Path("pwned.json").exists() and not Path("../pwned.json").exists()


@pytest.mark.parametrize("item", ["..%2F..%2Fetc%2Fpasswd", "..%2Fjma.sqlite3", "not-a-uuid", "%2e%2e", "' OR 1=1 --"])
@pytest.mark.parametrize("action", ["", "/Download", "/Delete"])
def test_workdata_ids_are_never_paths(item: str, action: str, http: httpx.Client) -> None:
    before = snapshot(http)
    method = "POST" if action == "/Delete" else "GET"
    response = http.request(method, f"/api/WorkData/{item}{action}", headers={"content-type": JSON})
    assert response.status_code in (404, 405), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert b"SQLite" not in response.content and b"root:" not in response.content
    assert snapshot(http) == before
