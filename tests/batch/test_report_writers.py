"""The report built from specs and jobs, and its files (no server needed)."""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic_core import to_json

from batchrun.client import StepInfo
from batchrun.manifest import expand, load_manifest
from batchrun.report import build_report
from batchrun.report.atomic import atomic_file
from batchrun.report.formats import ROWS_AT_ONCE, render_csv, render_json, write_atomic, write_report
from batchrun.report.model import HistoryEntry, SearchSummary
from batchrun.states import PointState

STEP = StepInfo(url="http://jma.test/api/ProcessingStep/1", function_name="add", version="1.0.0",
                parameter_schema=None)


def sample(write_manifest, make_job, *, extra=""):
    manifest = load_manifest(write_manifest("report-test", grid="a: [1, 2, 3, 4]", extra=extra))
    specs = expand(manifest, step_version="1.0.0")
    jobs = [
        make_job(specs[0], "Completed", result=json.dumps({"sum": 11, "product": 10, "deep": {"x": 1}})),
        make_job(specs[1], "Error", error="Traceback ...\nValueError: boom"),
        make_job(specs[1], "Completed", attempt=2, minutes=3, result=json.dumps({"sum": 12, "product": 20})),
        make_job(specs[2], "Processing"),
    ]
    return manifest, specs, jobs


def test_rows_follow_the_newest_attempt(write_manifest, make_job):
    manifest, specs, jobs = sample(write_manifest, make_job)
    report = build_report(manifest, STEP, specs, jobs, run="1")
    assert [job.state for job in report.jobs] == ["Completed", "Completed", "Processing", PointState.NOT_CREATED]
    assert report.jobs[1].attempt == 2 and report.jobs[1].attempts == 2
    assert report.jobs[0].result == {"sum": 11, "product": 10, "deep": {"x": 1}}
    assert report.jobs[0].duration_s == 2.0
    assert report.summary == {"Completed": 2, "Processing": 1, PointState.NOT_CREATED: 1}
    assert not report.complete and not report.failed
    assert len(report.manifest_hash) == 64


def test_running_past_the_timeout_is_reported_timed_out(write_manifest, make_job):
    manifest, specs, jobs = sample(write_manifest, make_job, extra="execution: {timeout: 30s}\n")
    later = jobs[3].started_at + timedelta(seconds=31)
    report = build_report(manifest, STEP, specs, jobs, run="1", now=later)
    assert report.jobs[2].state == PointState.TIMED_OUT and "30 s" in report.jobs[2].error
    assert report.failed == [report.jobs[2]]


def test_csv_has_parameters_and_flattened_results(write_manifest, make_job):
    manifest, specs, jobs = sample(write_manifest, make_job)
    text = render_csv(build_report(manifest, STEP, specs, jobs, run="1"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4
    header = list(rows[0])
    assert header[:5] == ["index", "name", "key", "state", "attempt"]
    assert header.index("a") < header.index("result.sum") < header.index("error")
    assert {"b", "result.product", "result.deep.x", "duration_s", "url"} <= set(header)
    assert rows[0]["result.sum"] == "11" and rows[0]["result.deep.x"] == "1"
    assert rows[3]["state"] == PointState.NOT_CREATED and rows[3]["result.sum"] == ""
    assert rows[0]["created_at"].endswith("Z")


def test_every_format_is_written_with_its_content(tmp_path, write_manifest, make_job):
    manifest, specs, jobs = sample(write_manifest, make_job)
    jobs.append(make_job(specs[3], "Error", error="ValueError: bad | pipe"))
    report = build_report(manifest, STEP, specs, jobs, run="1")
    paths = write_report(report, tmp_path / "out", ["json", "csv", "md", "html"])
    assert [path.name for path in paths] == [f"report-test.{ext}" for ext in ("json", "csv", "md", "html")]
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted([*(p.name for p in paths), "_assets"])
    document = json.loads(paths[0].read_text())
    assert document["format_version"] == 1 and document["step"]["version"] == "1.0.0"
    assert document["jobs"][3]["error"] == "ValueError: bad | pipe"
    assert set(document["jobs"][0]) >= {"name", "key", "parameters", "state", "result", "error", "attempt",
                                         "created_at", "started_at", "completed_at", "duration_s", "url"}
    markdown = paths[2].read_text()
    assert "| name | state |" in markdown and "### Failed (1)" in markdown and "bad \\| pipe" in markdown
    page = paths[3].read_text()
    assert '<script type="application/json" id="report-data">' in page and 'src="_assets/report.js"' in page
    assert sorted(p.name for p in (tmp_path / "out" / "_assets").iterdir()) == ["echarts.min.js", "report.css",
                                                                                "report.js"]


def test_a_reader_never_sees_a_report_half_written(tmp_path, write_manifest, make_job):
    """While the report is rewritten again and again, every read gets one whole version."""
    manifest = load_manifest(write_manifest("rewritten", grid="a: {range: [0, 1500]}"))
    specs = expand(manifest, step_version="1.0.0")
    versions = [
        build_report(manifest, STEP, specs, [make_job(spec, "Completed", result=json.dumps({"sum": n}))
                                             for spec in specs[: 1500 - n * 700]], run="1")
        for n in (0, 1)
    ]  # of different sizes: a reader of a file rewritten in place would see a mix or a torn end
    folder = tmp_path / "out"
    expected = []
    for version in versions:
        [path] = write_report(version, folder, ["json"])
        expected.append(json.loads(path.read_text()))
    assert expected[0] != expected[1]
    seen: set[int] = set()
    rewrites: list[int] = []
    stop = threading.Event()

    def rewrite() -> None:
        while not stop.is_set():
            write_report(versions[len(rewrites) % 2], folder, ["json"])
            rewrites.append(1)

    writer = threading.Thread(target=rewrite)
    writer.start()
    try:
        for _ in range(30):  # every read while the writer replaces the file
            seen.add(expected.index(json.loads(path.read_text())))  # half a file fails to parse
    finally:
        stop.set()
        writer.join()
    assert seen and rewrites, "the writer rewrote the file while it was read"
    assert [p.name for p in folder.iterdir()] == ["rewritten.json"]  # no temp file left behind


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "batch.json"
    write_atomic(path, '{"version": 1}')
    with pytest.raises(UnicodeEncodeError):
        write_atomic(path, '{"version": 2, "text": "' + "x" * 100_000 + '\ud800"}')  # fails mid-write
    assert path.read_text() == '{"version": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["batch.json"]


@pytest.mark.parametrize("points", [0, 1, ROWS_AT_ONCE, 2 * ROWS_AT_ONCE + 1])
def test_the_json_written_in_pieces_is_the_report_as_one_document(write_manifest, make_job, points):
    """Rows are serialised ``ROWS_AT_ONCE`` at a time and joined: the text is the report's
    document written in one go, whatever the number of rows."""
    manifest = load_manifest(write_manifest("pieces", grid=f"a: {{range: [0, {max(points, 1)}]}}"))
    specs = expand(manifest, step_version="1.0.0")[:points]
    jobs = [make_job(spec, "Completed", result=json.dumps({"sum": spec.index, "half": spec.index / 2}))
            for spec in specs[1:]]  # the first point has no job
    history = [HistoryEntry(trial=0, name="t0", value=1.5, best=1.5)]
    search = SearchSummary(strategy="tpe", objective="sum", direction="minimize", budget=4, trials=1,
                           best_trial=0, best_value=1.5, history=history)
    report = build_report(manifest, STEP, specs, jobs, run="1")
    for version in (report, report.model_copy(update={"search": search})):
        whole = {**version.model_dump(), "jobs": [row.json_fields() for row in version.jobs]}
        assert render_json(version) == to_json(whole, indent=2, inf_nan_mode="null").decode() + "\n"
        assert json.loads(render_json(version))["jobs"] == [row.document() for row in version.jobs]


def test_a_file_written_in_pieces_appears_whole_or_not_at_all(tmp_path):
    path = tmp_path / "batch.csv"
    write_atomic(path, "index\n0\n")
    with pytest.raises(RuntimeError), atomic_file(path) as out:
        out.write("index\n")
        out.write("1\n")
        assert path.read_text() == "index\n0\n"  # the rows written so far are not seen
        raise RuntimeError("a row failed")
    assert path.read_text() == "index\n0\n"
    with atomic_file(path) as out:
        out.writelines(f"{row}\n" for row in ("index", "1", "2"))
    assert path.read_text() == "index\n1\n2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["batch.csv"]


def test_plain_results_stay_one_column(write_manifest, make_job):
    manifest = load_manifest(write_manifest("plain", grid="a: [1]"))
    specs = expand(manifest, step_version="1.0.0")
    report = build_report(manifest, STEP, specs, [make_job(specs[0], "Completed", result="3.5")], run="1")
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert rows[0]["result"] == "3.5"


def test_generated_at_is_timezone_aware(write_manifest, make_job):
    manifest, specs, jobs = sample(write_manifest, make_job)
    moment = datetime(2026, 5, 1, tzinfo=UTC)
    assert build_report(manifest, STEP, specs, jobs, run="1", now=moment).generated_at == moment


def test_the_columns_are_every_flat_rows_in_the_order_first_seen(write_manifest, make_job):
    """Parameters named like a report column, object and plain results and a point without a
    job: the columns are those of the flat rows, fixed and trailing ones in place."""
    from batchrun.report.formats import FIXED_COLUMNS, TRAILING_COLUMNS, flat_row, table

    manifest = load_manifest(write_manifest("columns", grid="a: [1, 2]", parameters="{state: s, url: u, b: 1}"))
    specs = expand(manifest, step_version="1.0.0")
    jobs = [make_job(specs[0], "Completed", result="3.5"),
            make_job(specs[1], "Completed", result=json.dumps({"y": {"z": 1}, "w": [1]}))]
    report = build_report(manifest, STEP, specs, jobs, run="1")

    columns, rows = table(report)

    seen = dict.fromkeys(column for job in report.jobs for column in flat_row(job))
    middle = [column for column in seen if column not in FIXED_COLUMNS and column not in TRAILING_COLUMNS]
    parameters = [column for column in middle if not column.startswith("result")]
    results = [column for column in middle if column.startswith("result")]
    assert columns == [*FIXED_COLUMNS, *parameters, *results, *TRAILING_COLUMNS]
    assert {"param.state", "param.url", "result", "result.y.z", "result.w"} <= set(columns)
    assert [row["index"] for row in rows] == [spec.index for spec in specs]


def test_each_csv_cell_is_its_flat_rows_value_as_text():
    """The CSV is written column by column, making no flat row: each cell is still ``cell()``
    of the point's flat row, also where parameters are named like the report's columns
    (``state`` and ``param.state`` share one), like results (``resultant``) or like a search's
    columns (``arrived``: the search's wins, as it did in the flat row)."""
    from batchrun.report import Report, ReportJob
    from batchrun.report.formats import SEARCH_COLUMNS, cell, table
    from batchrun.report.model import StepRef

    moment = datetime(2026, 5, 1, 12, 0, 0, 250000, tzinfo=UTC)
    rows = [
        ReportJob(index=0, name="p0", key="k0", parameters={"state": "a", "param.state": "b", "resultant": 1},
                  state="Completed", result={"loss": 0.5, "deep": {"x": [1, True]}}, created_at=moment),
        ReportJob(index=1, name="p,1", key="k1", parameters={"param.state": "c", "state": "d", "arrived": 7.5},
                  state="Error", result=[1, "two"], error='bad "quote"', attempt=2, duration_s=1e-07),
        ReportJob(index=2, name="p2", key="k2", parameters={"flag": False, "opt": {"lr": 0.1}}, state="NotCreated",
                  result=True, started_at=moment.astimezone(timezone(timedelta(hours=-3)))),
    ]
    history = [HistoryEntry(trial=1, name="p,1", value=None, best=None), HistoryEntry(trial=0, name="p0", value=0.5,
                                                                                     best=0.5)]
    search = SearchSummary(strategy="tpe", objective="loss", direction="minimize", budget=3, trials=3,
                           best_trial=0, best_value=0.5, history=history)
    report = Report(batch="cells", run="1", manifest_hash="0" * 64, generated_at=moment, summary={},
                    step=StepRef(function="f", version="1", url="http://jma.test/step"), jobs=rows, search=search)

    columns, flat_rows = table(report)
    arrived = {0: {"arrived": 2, "best_so_far": 0.5}, 1: {"arrived": 1, "best_so_far": None}}
    expected = [[*columns, *SEARCH_COLUMNS]] + [
        [cell({**flat, **arrived.get(flat["index"], dict.fromkeys(SEARCH_COLUMNS))}.get(column))
         for column in [*columns, *SEARCH_COLUMNS]]
        for flat in flat_rows
    ]
    assert {"param.state", "resultant", "arrived"} <= set(columns)
    assert list(csv.reader(io.StringIO(render_csv(report)))) == expected
