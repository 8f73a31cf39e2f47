"""``status`` and ``report`` rebuild their picture from the platform alone."""

from __future__ import annotations

import csv
import io
import json

from batchrun.manifest import expand, load_manifest
from tests.support import read_report


def test_status_counts_states_and_shows_errors(cli, jma, platform, submit, write_manifest):
    path = write_manifest("status-mixed", function="fail", grid="message: [boom, bang, zap]", parameters="{}")
    manifest = load_manifest(path)
    specs = expand(manifest, step_version="1.0.0")
    submit(platform, manifest, specs[:2])
    result = cli(["status", str(path), "--endpoint", jma.url])
    assert result.exit_code == 1
    assert "Error" in result.stdout and "NotCreated" in result.stdout
    assert "ValueError: boom" in result.stdout and "ValueError: bang" in result.stdout
    as_json = cli(["status", str(path), "--endpoint", jma.url, "-o", "json"])
    assert as_json.exit_code == 1, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["summary"] == {"Error": 2, "NotCreated": 1}
    assert {entry["error"] for entry in document["failed"]} == {"ValueError: boom", "ValueError: bang"}


def test_status_of_a_completed_batch_exits_0(cli, jma, platform, submit, write_manifest):
    path = write_manifest("status-done", grid="a: [1, 2]")
    manifest = load_manifest(path)
    submit(platform, manifest, expand(manifest, step_version="1.0.0"))
    result = cli(["status", str(path), "--endpoint", jma.url])
    assert result.exit_code == 0, result.stderr
    assert "Completed" in result.stdout and "2 points" in result.stdout


def test_report_writes_files_and_prints_rows(cli, jma, platform, submit, write_manifest, tmp_path):
    path = write_manifest("report-e2e", grid="a: [1, 2, 3]",
                          extra="report: {dir: out, formats: [json, csv, md, html]}\n")
    manifest = load_manifest(path)
    submit(platform, manifest, expand(manifest, step_version="1.0.0"))
    result = cli(["report", str(path), "--endpoint", jma.url, "-o", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(row["a"], row["result.sum"], row["result.product"]) for row in rows] == [
        ("1", "11.0", "10.0"), ("2", "12.0", "20.0"), ("3", "13.0", "30.0")]
    folder = tmp_path / "out"
    assert sorted(p.name for p in folder.iterdir()) == [
        "_assets", "report-e2e.csv", "report-e2e.html", "report-e2e.json", "report-e2e.md"]
    document = read_report(path, "report-e2e", folder="out")
    assert document["step"]["function"] == "add" and document["step"]["url"].startswith(jma.url)
    assert [job["state"] for job in document["jobs"]] == ["Completed"] * 3
    assert all(job["url"].startswith(jma.url) and job["duration_s"] is not None for job in document["jobs"])
    assert str(folder) in result.stderr
    table = cli(["report", str(path), "--endpoint", jma.url])
    assert table.exit_code == 0, table.stderr
    assert "report-e2e-2" in table.stdout and "Completed" in table.stdout


def test_report_default_dir_is_next_to_the_manifest(cli, jma, write_manifest, tmp_path):
    path = write_manifest("report-empty", grid="a: [1]")
    result = cli(["report", str(path), "--endpoint", jma.url, "-o", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["jobs"][0]["state"] == "NotCreated"
    assert (tmp_path / "reports" / "report-empty.md").is_file()
    assert read_report(path, "report-empty") == json.loads(result.stdout)  # the file is what was printed


def test_quiet_status_prints_the_ids_of_the_selected_points_jobs(cli, jma, platform, submit, write_manifest):
    path = write_manifest("status-quiet", function="fail", grid="message: [boom, bang, zap]", parameters="{}")
    manifest = load_manifest(path)
    specs = expand(manifest, step_version="1.0.0")
    boom, bang = submit(platform, manifest, specs[:2])
    ids = {url.rsplit("/", 1)[-1]: url for url in (boom, bang)}

    everything = cli(["status", str(path), "--endpoint", jma.url, "-q", "-o", "json"])
    assert (everything.exit_code, everything.stdout) == (1, "\n".join(ids) + "\n")

    one = cli(["status", str(path), "--endpoint", jma.url, "-q", "--only", "message=bang"])
    assert one.exit_code == 1, one.stderr  # the selected point failed
    assert one.stdout.split() == [bang.rsplit("/", 1)[-1]]
    waiting = cli(["status", str(path), "--endpoint", jma.url, "--only", "state=notcreated"])
    assert (waiting.exit_code, "1 points" in waiting.stdout, "Error" in waiting.stdout) == (0, True, False)
    unknown = cli(["status", str(path), "--endpoint", jma.url, "--only", "colour=red"])
    assert unknown.exit_code == 2 and "no parameter named 'colour'; use one of: key, message, state" in unknown.stderr


def test_quiet_report_prints_ids_and_still_writes_the_files(cli, jma, platform, submit, write_manifest, tmp_path):
    path = write_manifest("report-quiet", grid="a: [1, 2]")
    manifest = load_manifest(path)
    urls = submit(platform, manifest, expand(manifest, step_version="1.0.0"))

    result = cli(["report", str(path), "--endpoint", jma.url, "--quiet"])

    assert (result.exit_code, result.stdout.split()) == (0, [url.rsplit("/", 1)[-1] for url in urls])
    assert (tmp_path / "reports" / "report-quiet.json").is_file()
    assert [row["state"] for row in read_report(path, "report-quiet")["jobs"]] == ["Completed"] * 2


def test_report_prints_a_screenful_and_says_where_the_other_rows_are(cli, jma, platform, submit, write_manifest,
                                                                    tmp_path):
    from batchrun.cli.results import SCREENFUL

    points = SCREENFUL + 5
    path = write_manifest("report-long", grid=f"a: {{range: [0, {points}]}}", extra="report: {dir: out}\n")
    manifest = load_manifest(path)
    submit(platform, manifest, expand(manifest, step_version="1.0.0")[:2])  # the rest: NotCreated

    table = cli(["report", str(path), "--endpoint", jma.url])

    assert table.exit_code == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split()[:2] == ["name", "state"]
    assert [row.split()[0] for row in rows] == [f"report-long-{index}" for index in range(SCREENFUL)]
    assert f"5 more rows in {tmp_path / 'out'}" in table.stderr
    with (tmp_path / "out" / "report-long.csv").open() as written:
        assert len(list(csv.DictReader(written))) == points  # the files hold every row
    for output, count in (("csv", lambda text: len(list(csv.DictReader(io.StringIO(text))))),
                          ("json", lambda text: len(json.loads(text)["jobs"])),
                          ("md", lambda text: text.count("\n| report-long-"))):
        whole = cli(["report", str(path), "--endpoint", jma.url, "-o", output])
        assert whole.exit_code == 0, whole.stderr
        assert count(whole.stdout) == points and "more rows" not in whole.stderr

    unwritten = write_manifest("report-long", grid=f"a: {{range: [0, {points}]}}", extra="report: {formats: []}\n")
    bare = cli(["report", str(unwritten), "--endpoint", jma.url])
    assert bare.exit_code == 0, bare.stderr
    assert len(bare.stdout.splitlines()) == 1 + SCREENFUL
    assert "5 more rows (-o csv prints every row)" in bare.stderr
