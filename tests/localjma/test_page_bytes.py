"""A page of jobs is pinned byte for byte: read-only items, full items and single jobs.

The server renders query pages by its fastest means; what a client receives must never
change with them. The jobs cover every case the rendering branches on (no step; a step
with input and output slots and WorkData in them; parent and folder links; started or not;
every state; hidden; tags; results; errors; text that JSON escapes) and are written
straight through the store with fixed ids and times, so the answers are the same on
every run but for the server's address. The expected bytes are files next to this test,
captured from the rendering before it was made fast; a missing file is written from the
current answers (and the test fails, so that it is looked at and committed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pinexq.client.job_management import Job, JobQuery

from batchrun.client.records import RemoteJob
from batchrun.client.transport import PAGE_HEADERS, QUERY_HEADERS
from batchrun.client.wire import job_page
from batchrun.localjma import LocalJMA
from batchrun.localjma.domain.slot_declarations import SlotContents
from batchrun.localjma.http import siren
from batchrun.localjma.store.database import Store
from batchrun.localjma.store.rows import FolderRow, JobRow, StepRow, WorkDataRow
from batchrun.states import JobState
from tests.support import STEPS, wait_until

pytestmark = pytest.mark.filterwarnings("error::UserWarning")  # pinexq-client warns on what it does not know

PINNED = Path(__file__).with_name("page_bytes")
BASE = "http://jma.test"  # the server's address in the pinned files
FULL_HEADERS = {"Content-Type": "application/json", "Prefer": "return=representation"}

#: Text that JSON encoders write differently (escapes, non-ASCII, line separators).
ODD = 'quote " backslash \\ slash / tab \t newline \n bell \x07 del \x7f é ü 日本 😀 \u2028 </script>'


def _id(number: int) -> str:
    return f"00000000-0000-4000-8000-{number:012d}"


ECHO, SLOTTED, PLAIN, PRODUCER = _id(1), _id(2), _id(3), _id(4)
SWEEPS, B1 = _id(11), _id(12)
TABLE, SECRET_TABLE, CONFIG, SUMMARY, BLOB = _id(21), _id(22), _id(23), _id(24), _id(25)


def _at(second: int) -> str:
    return f"2026-01-02T03:04:{second:02d}.{second * 1111:06d}Z"


SLOTTED_MANIFEST = {
    "function_name": "slotted",
    "version": "2.0.0",
    "short_description": f"Reads tables, writes a summary: {ODD}",
    "long_description": "Longer.",
    "parameters": {"type": "object", "properties": {"alpha": {"type": "number"}}},
    "input_dataslots": [
        {"name": "tables", "title": "Tables", "description": "one or more", "mediatype": "text/csv",
         "minSlots": 1, "maxSlots": None},
        {"name": "config", "title": None, "description": None, "mediatype": "text/plain", "minSlots": 0,
         "maxSlots": 1},
    ],
    "output_dataslots": [
        {"name": "summary", "title": "Summary", "description": "the counts", "mediatype": "application/json",
         "minSlots": 1, "maxSlots": 1},
        {"name": "blob", "mediatype": "application/octet-stream"},
    ],
    "procon_version": "2.1.0",
}
PLAIN_MANIFEST = {"function_name": "plain", "version": "1.0.0", "parameters": None}
PRODUCER_MANIFEST = {
    "function_name": "producer", "version": "0.1.0-dev", "short_description": "Only outputs.",
    "output_dataslots": [{"name": "out", "mediatype": "text/plain", "minSlots": 1, "maxSlots": 1}],
}


def _job(number: int, name: str, state: JobState, **fields: object) -> JobRow:
    return JobRow(0, _id(100 + number), name, state, created_at=_at(number), **fields)


def _finished(number: int) -> dict[str, object]:
    return {"started_at": _at(number + 20), "completed_at": _at(number + 40), "worker_id": f"local-{number % 2 + 1}"}


JOBS = [
    _job(1, "bare", JobState.CREATED),
    _job(2, f"configuring {ODD}", JobState.CREATED, step_id=SLOTTED, parameters='{"alpha": 1}',
         tags=("page=pinned", "kind=slots"), folder_path="/sweeps/b1/", folder_id=B1),
    _job(3, "ready", JobState.READY_FOR_PROCESSING, step_id=SLOTTED, parameters="{}", tags=("page=pinned",),
         hidden=True, output_deletable=True),
    _job(4, "queued", JobState.PENDING, step_id=ECHO, parameters='{"text": "x"}', tags=("page=pinned",)),
    _job(5, "summarized", JobState.COMPLETED, step_id=SLOTTED, parameters='{"alpha": 2.5}',
         result=json.dumps({"rows": 3, "note": ODD}), tags=("page=pinned", f"odd={ODD}", "batchrun.run=1"),
         children=1, **_finished(5)),
    _job(6, "failed", JobState.ERROR, step_id=PLAIN, error=f"ValueError: boom\n  at line 3\n{ODD}",
         folder_path="/sweeps/", folder_id=SWEEPS, **_finished(6)),
    _job(7, "canceled", JobState.CANCELED, step_id=PLAIN, completed_at=_at(47)),
    _job(8, "data missing", JobState.DATA_MISSING, step_id=PRODUCER, hidden=True, **_finished(8)),
    _job(9, "child", JobState.COMPLETED, step_id=PLAIN, parent_id=_id(105), result="null", hidden=True,
         output_deletable=True, folder_path="/sweeps/", folder_id=SWEEPS, **_finished(9)),
    _job(10, "produced nothing", JobState.COMPLETED, step_id=PRODUCER, result="42", **_finished(10)),
    _job(11, "started, nothing to show", JobState.ERROR, step_id=SLOTTED, error="", **_finished(11)),
]


def _workdata(number: int, wid: str, name: str, media_type: str, **fields: object) -> WorkDataRow:
    return WorkDataRow(0, wid, name, media_type, 10 * number, "Unknown", created_at=_at(30 + number),
                       **fields)


def _fill(database: Path) -> None:
    """The jobs above, their steps, folders and WorkData, with fixed ids and times."""
    store = Store(database)
    try:
        with store.transaction():
            for step_id, manifest in ((ECHO, {"function_name": "echo", "version": "1.0.0"}),
                                      (SLOTTED, SLOTTED_MANIFEST), (PLAIN, PLAIN_MANIFEST),
                                      (PRODUCER, PRODUCER_MANIFEST)):
                store.insert_step(StepRow(step_id, str(manifest["function_name"]), str(manifest["version"]),
                                          manifest, created_at=_at(0), modified_at=_at(0)))
            store.insert_folder(FolderRow(0, SWEEPS, "sweeps", "/sweeps/", created_at=_at(0)))
            store.insert_folder(FolderRow(0, B1, "b1", "/sweeps/b1/", parent_id=SWEEPS, created_at=_at(0)))
            jobs = {job.id: job for job in store.insert_jobs(JOBS)}
            for data in (
                _workdata(1, TABLE, "a.csv", "text/csv", tags=("input",), comments=ODD),
                _workdata(2, SECRET_TABLE, f"b {ODD}.csv", "text/csv", hidden=True, secret=True,
                          deletable=False, folder_path="/sweeps/", folder_id=SWEEPS),
                _workdata(3, CONFIG, "config.txt", "text/plain"),
                _workdata(4, SUMMARY, "summary.json", "application/json", producer_job_id=_id(105),
                          producer_step_id=SLOTTED, producer_slot=0, deletable=False, tags=("output", "x=1")),
                _workdata(5, BLOB, "blob.bin", "application/octet-stream", producer_job_id=_id(105),
                          producer_step_id=SLOTTED, producer_slot=1),
            ):
                store.insert_workdata(data)
            store.select_inputs(jobs[_id(102)], 0, [TABLE])
            store.select_inputs(jobs[_id(103)], 0, [TABLE, SECRET_TABLE])
            store.select_inputs(jobs[_id(103)], 1, [CONFIG])
            store.select_inputs(jobs[_id(105)], 0, [SECRET_TABLE])
            store.select_inputs(jobs[_id(111)], 1, [CONFIG])
    finally:
        store.close()


@pytest.fixture(scope="module")
def pinned_jobs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local JMA serving the jobs above; its URL. No workers, so the queued job stays Pending
    (its step, ``echo``, is the one the server has the source of, under the id given here)."""
    database = tmp_path_factory.mktemp("pinned") / "jma.sqlite3"
    _fill(database)
    with LocalJMA(database, steps=[str(STEPS)], workers=0) as server:
        yield server.url


def _answer(response: httpx.Response, base: str) -> bytes:
    """What the client gets that the rendering decides: status, media type, the next page's
    Link header and the body, with the server's address replaced by :data:`BASE`."""
    head = f"{response.status_code} {response.headers['content-type']} {response.headers.get('link')}"
    return (f"{head}\n".encode() + response.content).replace(base.encode(), BASE.encode())


def _paged(client: httpx.Client, query: dict, query_headers: dict, page_headers: dict,
           path: str = "/api/JobsRoot/Query") -> list[httpx.Response]:
    """The 201 of ``query`` with its first page, then every page its Link headers lead to."""
    answers = [client.post(path, content=json.dumps(query), headers=query_headers)]
    while "next" in answers[-1].links:
        answers.append(client.get(answers[-1].links["next"]["url"], headers=page_headers))
    return answers


def _compare(name: str, answers: list[bytes]) -> None:
    """The answers against the pinned file ``name`` (written when missing)."""
    got = b"\n".join(answers) + b"\n"
    pinned = PINNED / name
    if not pinned.exists():
        pinned.parent.mkdir(exist_ok=True)
        pinned.write_bytes(got)
        pytest.fail(f"pinned {pinned} from the current answers: check it and commit it")
    expected = pinned.read_bytes()
    for number, (mine, theirs) in enumerate(zip(got.split(b"\n"), expected.split(b"\n"), strict=False)):
        assert mine == theirs, f"{name}, line {number + 1} differs"
    assert got == expected


QUERIES = {
    "by-creation": {"Pagination": {"PageSize": 4}},  # newest first, pages after a cursor
    "by-creation-ascending": {"Pagination": {"PageSize": 5}, "SortBy": {"SortType": "Ascending"}},
    "by-name": {"Pagination": {"PageSize": 100}, "SortBy": {"PropertyName": "Name", "SortType": "Descending"}},
    "pinned-tag": {"Filter": {"TagsByAnd": ["page=pinned"]}, "IncludeRemainingTags": True},
    "no-match": {"Filter": {"TagsByAnd": ["page=nothing"]}},  # a page without entities
}


@pytest.mark.parametrize("read_only", [True, False], ids=["read-only", "full"])
@pytest.mark.parametrize("query", QUERIES)
def test_query_pages_are_the_pinned_bytes(pinned_jobs: str, query: str, read_only: bool) -> None:
    headers = (QUERY_HEADERS, PAGE_HEADERS) if read_only else (FULL_HEADERS, {})
    with httpx.Client(base_url=pinned_jobs) as client:
        answers = _paged(client, QUERIES[query], *headers)

    _compare(f"{query}-{'read-only' if read_only else 'full'}.txt", [_answer(a, pinned_jobs) for a in answers])


OTHER_QUERIES = {
    "workdata": ("/api/WorkDataRoot/Query", {"Pagination": {"PageSize": 2}}),
    "steps": ("/api/ProcessingStepsRoot/Query", {"Filter": {"FunctionName": "slotted"}}),
}


@pytest.mark.parametrize("kind", OTHER_QUERIES)
def test_other_query_pages_are_the_pinned_bytes(pinned_jobs: str, kind: str) -> None:
    """WorkData and step pages share the page's encoding with job pages."""
    path, query = OTHER_QUERIES[kind]
    with httpx.Client(base_url=pinned_jobs) as client:
        answers = _paged(client, query, QUERY_HEADERS, PAGE_HEADERS, path)

    _compare(f"{kind}.txt", [_answer(answer, pinned_jobs) for answer in answers])


def test_each_job_on_its_own_is_the_pinned_bytes(pinned_jobs: str) -> None:
    with httpx.Client(base_url=pinned_jobs) as client:
        answers = [client.get(f"/api/Job/{job.id}", headers=PAGE_HEADERS) for job in JOBS]

    _compare("single-jobs.txt", [_answer(answer, pinned_jobs) for answer in answers])


def test_both_clients_read_the_pinned_pages(pinned_jobs: str) -> None:
    """pinexq-client reads the full items without a warning; batchrun's records of read-only
    and full items are equal."""
    with httpx.Client(base_url=pinned_jobs) as client:
        theirs = JobQuery.create(client, page_size=3).to_list()
        lean, full = (
            [RemoteJob.from_entity(item) for answer in _paged(client, QUERIES["by-creation"], *headers)
             for item in job_page(answer.content).items]
            for headers in ((QUERY_HEADERS, PAGE_HEADERS), (FULL_HEADERS, {}))
        )

    assert [job.job_hco.name for job in theirs] == [job.name for job in reversed(JOBS)]
    assert lean == full and [record.name for record in lean] == [job.name for job in reversed(JOBS)]


def test_a_processing_job_is_the_pinned_bytes(jma: LocalJMA, client: httpx.Client) -> None:
    """Processing is the one state the store cannot hold across a start (the server re-queues
    it), so this job really runs, on the shared server (its tag is this test's alone, as the
    query in the links must not vary); what differs per run is replaced by fixed text."""
    tag = "test=pinned-processing"
    job = Job(client).create("pinned: running").set_tags([tag]).select_processing("sleep_ms")
    job.configure_parameters(ms=4000).start()
    url = str(job.self_link().get_url())
    properties = wait_until(lambda: (found := client.get(url).json()["properties"])["State"] == "Processing"
                            and found, what="the job to run")
    query = {"Filter": {"TagsByAnd": [tag]}}
    answers = [*_paged(client, query, QUERY_HEADERS, PAGE_HEADERS), *_paged(client, query, FULL_HEADERS, {}),
               client.get(url)]
    step_url = next(link["href"] for link in client.get(url).json()["links"] if "SelectedProcessingStep" in link["rel"])
    varying = {
        url.rsplit("/", 1)[1]: _id(901), step_url.rsplit("/", 1)[1]: _id(902),
        properties["CreatedAt"]: _at(1), properties["StartedAt"]: _at(2), properties["WorkerId"]: "local-1",
    }

    def fixed(answer: httpx.Response) -> bytes:
        text = _answer(answer, jma.url)
        for value, replacement in varying.items():
            text = text.replace(value.encode(), replacement.encode())
        return text

    _compare("processing.txt", [fixed(answer) for answer in answers])


TEXT = st.text(st.characters(exclude_categories=("Cs",)))  # SQLite holds no lone surrogate
OPTIONAL = st.none() | TEXT


@settings(max_examples=300, deadline=None)
@given(name=TEXT, tags=st.lists(TEXT, max_size=4), hidden=st.booleans(), deletable=st.booleans(),
       state=st.sampled_from(JobState), texts=st.lists(OPTIONAL, min_size=7, max_size=7),
       step=st.sampled_from([None, PLAIN_MANIFEST, PRODUCER_MANIFEST, {**PLAIN_MANIFEST, "short_description": ODD}]),
       base=st.sampled_from([BASE, "https://[::1]:8443", "http://h\u00e9te"]))
def test_read_only_items_are_the_generic_entities_for_any_text(
    name: str, tags: list[str], hidden: bool, deletable: bool, state: JobState, texts: list[str | None],
    step: dict | None, base: str,
) -> None:
    """The read-only items written as text are the bytes of the generic entities, whatever the
    text of their fields (JSON escapes, non-ASCII, line separators)."""
    parameters, result, error, worker, started, parent, folder = texts
    row = JobRow(7, name or "x", name, state, step_id=None if step is None else PLAIN, parameters=parameters,
                 result=result, error=error, tags=tuple(tags), hidden=hidden, output_deletable=deletable,
                 parent_id=parent, worker_id=worker, created_at=name, started_at=started,
                 completed_at=result, folder_path=name, folder_id=folder)
    steps = {} if step is None else {PLAIN: StepRow(PLAIN, "plain", "1.0.0", step)}
    contents = SlotContents()

    lean = siren.read_only_jobs(base, [row, row], steps.get, lambda job, step: contents)

    generic = siren.job(base, row, steps.get(PLAIN), "item", contents, actions=False)
    assert b"".join(lean) == b"".join(siren.encode_items([generic, generic]))
