"""Output WorkData in reports (every format) and ``batchrun fetch``, through the real client
and server: a step that writes a JSON summary and a binary file."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from batchrun.client import Platform
from batchrun.fetch import destination, fetch, plan_downloads, safe_name
from batchrun.manifest import load_manifest
from batchrun.plan import DEFAULT_RUN
from batchrun.report import rebuild_report
from tests.batch.loopback import LoopbackProxy
from tests.steps.output_steps import blob_bytes
from tests.support import STEPS_DIR, page_data, read_report, wait_until

OUTPUT_STEPS = STEPS_DIR / "output_steps.py"


@pytest.fixture(scope="module")
def jma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real local JMA with the output-writing step."""
    from batchrun.localjma import LocalJMA

    database = tmp_path_factory.mktemp("jma") / "jma.sqlite3"
    with LocalJMA(database, steps=[str(OUTPUT_STEPS)], workers=2, stats=True) as server:
        yield server


def write(folder: Path, batch: str, *, grid: str = "label: [alpha, beta]", parameters: str = "{size: 3000}",
          name: str = "{{ batch }}-{{ label }}", report: str = "{formats: [json, csv, md, html]}") -> Path:
    path = folder / f"{batch}.yaml"
    path.write_text(
        "version: 1\n"
        f"batch: {batch}\n"
        'step: {function: produce, version: "1.0.0"}\n'
        f"local: {{steps: [{OUTPUT_STEPS}], workers: 2}}\n"
        f"parameters: {parameters}\n"
        "grid:\n"
        + "".join(f"  {line}\n" for line in grid.splitlines())
        + f"name: {json.dumps(name)}\n"
        f"report: {report}\n",
        encoding="utf-8",
    )
    return path


def applied(cli: Any, jma: Any, path: Path) -> None:
    result = cli(["apply", str(path), "--endpoint", jma.url])
    assert result.exit_code == 0, result.stderr


def requests_by_route(jma: Any, *, reset: bool = False) -> dict[str, int]:
    """The requests the server answered since the last reset, by route (ids blanked out)."""
    from batchrun.localjma.http.stats import STATS_PATH

    answer = httpx.get(jma.url + STATS_PATH)
    answer.raise_for_status()
    if reset:
        httpx.delete(jma.url + STATS_PATH).raise_for_status()
    return dict(answer.json()["by_route"])


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


def test_outputs_in_every_report_format(cli, jma, tmp_path):
    path = write(tmp_path, "out-formats")
    applied(cli, jma, path)
    document = read_report(path, "out-formats")
    for job in document["jobs"]:
        label = job["parameters"]["label"]
        outputs = {output["slot"]: output for output in job["outputs"]}
        assert set(outputs) == {"summary", "blob"}
        assert outputs["blob"]["name"] == f"{label}.bin" and outputs["blob"]["size"] == 3000
        assert outputs["blob"]["media_type"] == "application/octet-stream"
        assert outputs["summary"]["media_type"] == "application/json"
        assert all(o["url"].startswith(jma.url) and o["download_url"].endswith("/Download") for o in job["outputs"])
    rows = list(csv.DictReader(io.StringIO(read_report(path, "out-formats", "csv"))))
    blob = next(o for o in json.loads(rows[0]["outputs"]) if o["slot"] == "blob")
    assert blob["name"] == "alpha.bin" and blob["size"] == 3000 and blob["url"].startswith(jma.url)
    markdown = read_report(path, "out-formats", "md")
    assert "| outputs |" in markdown.splitlines()[4] + " |"
    assert f"[blob/alpha.bin (2.9 KiB)]({blob['download_url']})" in markdown
    page = page_data(read_report(path, "out-formats", "html"))
    assert {"label": "blob/alpha.bin (2.9 KiB)", "href": blob["download_url"]} in page["points"][0]["outputs"]
    table = cli(["report", str(path), "--endpoint", jma.url])
    assert "blob/beta.bin" in table.stdout


def test_fetch_downloads_then_skips_and_repairs(cli, jma, tmp_path):
    path = write(tmp_path, "out-fetch")
    applied(cli, jma, path)
    requests_by_route(jma, reset=True)
    first = cli(["fetch", str(path), "--endpoint", jma.url])
    assert first.exit_code == 0, first.stderr
    routes = requests_by_route(jma, reset=True)
    assert routes["GET /api/WorkData/{id}/Download"] == 4
    assert not [route for route in routes if route.startswith("GET /api/Job/")]
    assert "GET /api/WorkData/{id}" not in routes  # the outputs come with the query pages
    dest = tmp_path / "reports" / "out-fetch"
    files = files_under(dest)
    assert files == {
        "out-fetch-alpha/blob/alpha.bin": blob_bytes("alpha", 3000),
        "out-fetch-alpha/summary/summary.json": files["out-fetch-alpha/summary/summary.json"],
        "out-fetch-beta/blob/beta.bin": blob_bytes("beta", 3000),
        "out-fetch-beta/summary/summary.json": files["out-fetch-beta/summary/summary.json"],
    }
    assert json.loads(files["out-fetch-beta/summary/summary.json"]) == {"label": "beta", "size": 3000}
    assert "fetched 4 files" in first.stderr
    times = {path: path.stat().st_mtime_ns for path in dest.rglob("*") if path.is_file()}

    again = cli(["fetch", str(path), "--endpoint", jma.url])
    assert again.exit_code == 0, again.stderr
    assert "fetched 0 files (0 bytes), 4 already there" in again.stderr
    assert {path: path.stat().st_mtime_ns for path in dest.rglob("*") if path.is_file()} == times
    assert "GET /api/WorkData/{id}/Download" not in requests_by_route(jma)

    corrupt = dest / "out-fetch-alpha" / "blob" / "alpha.bin"
    corrupt.write_bytes(bytes(3000))  # the right size, the wrong content
    truncated = dest / "out-fetch-beta" / "blob" / "beta.bin"
    truncated.write_bytes(blob_bytes("beta", 3000)[:100])
    repaired = cli(["fetch", str(path), "--endpoint", jma.url])
    assert repaired.exit_code == 0, repaired.stderr
    assert "fetched 2 files (6000 bytes), 2 already there" in repaired.stderr
    assert files_under(dest) == files
    assert not list(dest.rglob("*.part"))


def test_an_interrupted_fetch_leaves_no_partial_file(cli, jma, tmp_path):
    path = write(tmp_path, "out-interrupt", grid="label: [big]", parameters="{size: 3000000}")
    applied(cli, jma, path)
    manifest = load_manifest(path)
    dest = destination(manifest)
    with Platform(jma.url, None) as platform:
        downloads = plan_downloads(rebuild_report(platform, manifest, run=DEFAULT_RUN), dest, ["blob"])
        assert len(downloads) == 1

        def interrupt(count: int) -> None:
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            fetch(platform, downloads, on_bytes=interrupt)
    assert [p for p in dest.rglob("*") if p.is_file()] == []
    resumed = cli(["fetch", str(path), "--endpoint", jma.url, "--slot", "blob"])
    assert resumed.exit_code == 0, resumed.stderr
    assert files_under(dest) == {"out-interrupt-big/blob/big.bin": blob_bytes("big", 3000000)}


def cut_downloads(times: int) -> Callable[[str, str], str]:
    """A proxy rule that cuts the first ``times`` downloads midway and passes the rest."""
    cuts = iter(["cut-answer"] * times)
    return lambda method, path: next(cuts, "forward") if path.endswith("/Download") else "forward"


def test_a_download_cut_off_midway_is_fetched_again_whole(cli, jma, tmp_path):
    """The network drops the connection halfway through a file: the download starts over and
    the file is whole, with no partial file left beside it."""
    path = write(tmp_path, "out-cut", grid="label: [big]", parameters="{size: 300000}")
    applied(cli, jma, path)
    with LoopbackProxy(jma.url, cut_downloads(1)) as proxy:
        fetched = cli(["fetch", str(path), "--endpoint", proxy.url, "--slot", "blob"])

    assert fetched.exit_code == 0, fetched.stderr
    assert (proxy.verdicts["cut-answer"], proxy.count("GET", "/Download")) == (1, 2)
    dest = destination(load_manifest(path))
    assert files_under(dest) == {"out-cut-big/blob/big.bin": blob_bytes("big", 300000)}
    assert not list(dest.rglob("*.part"))


def test_the_bytes_of_a_cut_off_try_are_taken_back_from_the_progress(cli, jma, tmp_path):
    """The progress a caller is given adds up to the file once, however many tries it took
    (3 MB: a cut try has handed over a 1 MiB chunk before the connection broke off)."""
    path = write(tmp_path, "out-cut-progress", grid="label: [big]", parameters="{size: 3000000}")
    applied(cli, jma, path)
    manifest = load_manifest(path)
    counted: list[int] = []
    with LoopbackProxy(jma.url, cut_downloads(2)) as proxy, Platform(proxy.url, None) as platform:
        downloads = plan_downloads(rebuild_report(platform, manifest, run=DEFAULT_RUN), destination(manifest), ["blob"])
        result = fetch(platform, downloads, on_bytes=counted.append)

    assert (result.bytes, proxy.verdicts["cut-answer"]) == (3000000, 2)
    assert sum(counted) == 3000000
    assert [count for count in counted if count < 0]  # each cut try took its bytes back


def test_a_download_cut_off_every_time_fails_and_leaves_nothing_half_written(cli, jma, tmp_path):
    """Every try is cut: the file fails with a message naming it, nothing half-written stays,
    and the same command, once the network is back, fetches it whole."""
    path = write(tmp_path, "out-cut-always", grid="label: [big]", parameters="{size: 300000}")
    applied(cli, jma, path)
    with LoopbackProxy(jma.url, cut_downloads(1_000)) as proxy:
        failed = cli(["fetch", str(path), "--endpoint", proxy.url, "--slot", "blob"])

    assert failed.exit_code == 1, failed.stderr
    assert proxy.verdicts["cut-answer"] == proxy.count("GET", "/Download") == 5  # every try
    text = " ".join(failed.stderr.split())
    assert "out-cut-always-big/blob/'big.bin': downloading 'big.bin'" in text
    assert "broke off (peer closed connection without sending complete message body (received 150000 bytes" in text
    dest = destination(load_manifest(path))
    assert [p for p in dest.rglob("*") if p.is_file()] == []  # no file, no record, no .part

    again = cli(["fetch", str(path), "--endpoint", jma.url, "--slot", "blob"])
    assert again.exit_code == 0, again.stderr
    assert files_under(dest) == {"out-cut-always-big/blob/big.bin": blob_bytes("big", 300000)}


HOSTILE = ["../../x", "/etc/passwd", "a\u0000b\nc", "..", "CON"]


def test_hostile_names_stay_inside_the_destination(cli, jma, tmp_path):
    work = tmp_path / "deep" / "work"
    work.mkdir(parents=True)
    path = write(work, "out-hostile", grid=f"filename: {json.dumps(HOSTILE)}", parameters="{label: x, size: 10}",
                 name="../{{ filename }}")
    applied(cli, jma, path)
    report = read_report(path, "out-hostile")
    assert sorted(o["name"] for job in report["jobs"] for o in job["outputs"] if o["slot"] == "blob") == sorted(HOSTILE)
    result = cli(["fetch", str(path), "--endpoint", jma.url, "--slot", "blob"])
    assert result.exit_code == 0, result.stderr
    dest = work / "reports" / "out-hostile"
    everything = [p for p in tmp_path.rglob("*") if p.is_file()]
    written = [p for p in everything if p.is_relative_to(dest)]
    assert len(written) == 2 * len(HOSTILE)  # each file and its record
    assert all(p.resolve().is_relative_to(dest.resolve()) and p.parent.parent.parent == dest for p in written)
    outside = [p for p in everything if p not in written]
    reports = (work, work / "reports", work / "reports" / "_assets")  # the HTML report's shared scripts
    assert all(p.parent in reports or ".batchrun" in p.parts for p in outside), outside
    assert all(p.read_bytes() == blob_bytes("x", 10) for p in written if not p.name.startswith("."))


def test_safe_name():
    assert safe_name("../../x", "f") == "_.._x"
    assert safe_name("/etc/passwd", "f") == "_etc_passwd"
    assert safe_name("a\x00b\nc", "f") == "a_b_c"
    assert safe_name("..", "f") == "f" and safe_name("", "f") == "f"
    assert safe_name("nul.txt", "f") == "_nul.txt"
    assert safe_name("ünïcode résumé.pdf", "f") == "ünïcode résumé.pdf"
    long = safe_name("x" * 500 + ".csv", "f")
    assert long.endswith(".csv") and len(long.encode()) <= 180


def test_fetch_filters_by_slot_and_only(cli, jma, tmp_path):
    path = write(tmp_path, "out-filter", grid="label: [alpha, beta, gamma]")
    applied(cli, jma, path)
    dest = tmp_path / "elsewhere"
    result = cli(["fetch", str(path), "--endpoint", jma.url, "--slot", "summary", "--only", "label=beta",
                  "--dest", str(dest)])
    assert result.exit_code == 0, result.stderr
    assert list(files_under(dest)) == ["out-filter-beta/summary/summary.json"]
    none = cli(["fetch", str(path), "--endpoint", jma.url, "--slot", "nope", "--dest", str(dest)])
    assert none.exit_code == 0 and "no output WorkData to fetch" in none.stderr


def test_report_download_fetches_at_the_end_of_apply(cli, jma, tmp_path):
    path = write(tmp_path, "out-auto", report="{formats: [json], download: [blob]}")
    applied(cli, jma, path)
    assert files_under(tmp_path / "reports" / "out-auto") == {
        "out-auto-alpha/blob/alpha.bin": blob_bytes("alpha", 3000),
        "out-auto-beta/blob/beta.bin": blob_bytes("beta", 3000),
    }
    everything = write(tmp_path, "out-auto-all", grid="label: [one]", report="{formats: [json], download: true}")
    applied(cli, jma, everything)
    assert sorted(files_under(tmp_path / "reports" / "out-auto-all")) == [
        "out-auto-all-one/blob/one.bin", "out-auto-all-one/summary/summary.json"]


def test_cleanup_deletes_inputs_no_remaining_job_uses_and_says_why_it_keeps_the_rest(cli, jma, tmp_path):
    from pinexq.client.job_management import Job, ProcessingStep, WorkData
    from pinexq.client.job_management.enterjma import create_pinexq_client
    from pinexq.client.job_management.tool.job import InputDataSlotParameterFlexible

    from batchrun.identity import ownership_tags

    client = create_pinexq_client(jma.url, api_key="local")
    step = ProcessingStep.from_name(client, "measure", "1.0.0")
    shared, own = (WorkData(client).create(filename=f"{name}.txt", mediatype="text/plain", binary=name.encode())
                   for name in ("shared", "own"))
    urls = {name: str(data.self_link().get_url()) for name, data in (("shared", shared), ("own", own))}

    def job(batch: str, key: str, data: Any) -> None:
        Job(client).create_and_configure_rapidly(
            name=f"{batch}-{key}", processing_step_instance=step, tags=ownership_tags(batch, key, key, "1", 1),
            input_data_slots=[InputDataSlotParameterFlexible.create(index=0, work_data_instances=[data])],
        )

    job("in-a", "k1", shared)
    job("in-a", "k2", own)
    job("in-b", "k3", shared)  # another batch still uses the shared input
    with Platform(jma.url, None) as platform:
        wait_until(lambda: all(j.finished for b in ("in-a", "in-b") for j in platform.owned_jobs(b)), timeout=30,
                   what="the measuring jobs")
    cleanup = "cleanup: {delete_input_workdata: true}\n"
    first = write(tmp_path, "in-a", grid="label: [x]")
    first.write_text(first.read_text() + cleanup)
    result = cli(["destroy", str(first), "--endpoint", jma.url, "--yes"])
    assert result.exit_code == 0, result.stderr
    assert "deleted 2 of 2 jobs" in result.stderr and "deleted 1 input WorkData" in result.stderr
    assert f"WorkData 'shared.txt' ({urls['shared']}) is kept: a remaining job uses it as input" in result.stderr
    with Platform(jma.url, None) as platform:
        assert platform.workdata(urls["own"]) is None and platform.workdata(urls["shared"]) is not None
        second = write(tmp_path, "in-b", grid="label: [x]")
        second.write_text(second.read_text() + cleanup)
        result = cli(["destroy", str(second), "--endpoint", jma.url, "--yes"])
        assert result.exit_code == 0, result.stderr
        assert "deleted 1 input WorkData" in result.stderr and "kept" not in result.stderr
        assert platform.workdata(urls["shared"]) is None
