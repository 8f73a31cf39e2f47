"""The HTML report's data and files, without a browser: which plots are chosen, the swept axes
the report takes from the manifest's grid, the escaping of the data block, the shared assets
and the size of a 1,000-point report. The page itself is tested in Chromium
(``test_report_html_browser.py``)."""

from __future__ import annotations

import json
import re

from batchrun.client import StepInfo
from batchrun.manifest import expand, load_manifest
from batchrun.report import build_report
from batchrun.report.formats import write_report
from batchrun.report.html import ASSETS_DIR, SCRIPTS, STYLESHEET, asset, page_data, render_html, script_json
from batchrun.report.model import flatten_result
from batchrun.report.plots import MAX_FIELD_PLOTS, choose_plots

STEP = StepInfo(url="http://jma.test/api/ProcessingStep/1", function_name="add", version="1.0.0",
                parameter_schema=None)
GRID = "lr: {logspace: [-3, -1, 3]}\ndepth: [2, 4]\nopt: [sgd, adam]"


def report_of(write_manifest, make_job, *, grid=GRID, extra="", result=lambda spec: {"loss": spec.index / 10}):
    manifest = load_manifest(write_manifest("html-test", grid=grid, extra=extra))
    specs = expand(manifest, step_version="1.0.0")
    jobs = [make_job(spec, "Completed", result=json.dumps(result(spec))) for spec in specs]
    return build_report(manifest, STEP, specs, jobs, run="1")


def test_a_dict_result_is_flattened_and_a_scalar_is_result():
    assert flatten_result({"loss": 0.5, "deep": {"x": 1}}) == {"result.loss": 0.5, "result.deep.x": 1}
    assert flatten_result(3.5) == {"result": 3.5}
    assert flatten_result("text") == {"result": "text"}


def test_swept_axes_come_from_the_grid_with_their_scale(write_manifest, make_job):
    report = report_of(write_manifest, make_job)
    assert [(axis.name, axis.numeric, axis.log) for axis in report.axes] == [
        ("lr", True, True), ("depth", True, False), ("opt", False, False)]  # b is fixed: not an axis


def test_points_file_columns_are_axes_too(tmp_path, write_manifest, make_job):
    (tmp_path / "points.csv").write_text("a,seed\n7,1\n8,2\n")
    report = report_of(write_manifest, make_job, grid="a: {logspace: [0, 1, 2]}", extra="points_file: points.csv\n")
    assert [(axis.name, axis.log) for axis in report.axes] == [("a", True), ("seed", False)]


def test_plots_follow_the_data(write_manifest, make_job):
    report = report_of(write_manifest, make_job, result=lambda spec: {"loss": 1.0, "size": 2, "tag": "x"})
    plots = [plot.to_json() for plot in choose_plots(report)]
    scatter = [plot for plot in plots if plot["kind"] == "scatter"]
    assert [(plot["y"], plot["x"], plot.get("log_x", False)) for plot in scatter] == [
        ("result.loss", "lr", True), ("result.loss", "depth", False),
        ("result.size", "lr", True), ("result.size", "depth", False)]  # result.tag is text: table only
    assert {plot["color"] for plot in scatter} == {"opt"}
    assert [plot["kind"] for plot in plots[4:]] == ["heatmap", "parallel", "histogram"]
    assert plots[4] == {"kind": "heatmap", "title": "result.loss over lr and depth", "x": "lr", "y": "depth",
                        "value": "result.loss"}
    assert plots[5]["dimensions"] == ["lr", "depth", "opt", "result.loss", "result.size"]
    assert plots[5]["log"] == ["lr"]


def test_one_axis_and_a_scalar_result_give_one_plot_and_the_durations(write_manifest, make_job):
    report = report_of(write_manifest, make_job, grid="a: [1, 2, 3]", result=lambda spec: spec.index * 2.5)
    assert [(plot.kind, plot.x, plot.y) for plot in choose_plots(report)] == [
        ("scatter", "a", "result"), ("histogram", "duration_s", None)]


def test_automatic_field_plots_are_capped(write_manifest, make_job):
    report = report_of(write_manifest, make_job, grid="a: [1, 2]\nb2: [1, 2]\nc: [1, 2]",
                       result=lambda spec: {f"f{n}": n for n in range(6)})
    assert sum(plot.kind == "scatter" for plot in choose_plots(report)) == MAX_FIELD_PLOTS


def test_plots_named_in_the_manifest_replace_the_automatic_ones(write_manifest, make_job):
    extra = "report: {plots: [{x: lr, y: result.loss, color: opt, kind: line, log_x: true}]}\n"
    report = report_of(write_manifest, make_job, extra=extra)
    assert [plot.to_json() for plot in choose_plots(report)] == [
        {"kind": "line", "title": "result.loss vs lr", "x": "lr", "y": "result.loss", "color": "opt",
         "log_x": True}]


def test_the_data_block_cannot_be_closed_by_user_data():
    text = script_json({"name": "</script><!-- <img src=x onerror=alert(1)> & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"name": "</script><!-- <img src=x onerror=alert(1)> & \u2028"}


def test_numbers_json_cannot_carry_become_text():
    text = script_json({"loss": float("nan"), "bounds": [float("inf"), -float("inf")], "note": "NaN"})
    assert json.loads(text) == {"loss": "NaN", "bounds": ["Infinity", "-Infinity"], "note": "NaN"}


def test_the_page_carries_the_header_facts(write_manifest, make_job):
    report = report_of(write_manifest, make_job, extra="revision: snapshot-7\n")
    header = page_data(report)["header"]
    assert header["step"] == "add@1.0.0" and header["revision"] == "snapshot-7"
    assert header["summary"] == [("Completed", 12)] and header["points"] == 12
    assert header["wall_time_s"] == 3.0  # created at the epoch, completed 1 + 2 s later


def test_the_printed_page_allows_exactly_its_inline_scripts(write_manifest, make_job):
    page = render_html(report_of(write_manifest, make_job))
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in policy
    assert len(re.findall(r"'sha256-", policy)) == 3  # ECharts, report.js, report.css
    assert '<script src="' not in page and "<link" not in page and "<script>" in page
    assert all("</script" not in asset(name) and "</style" not in asset(name)
               for name in (*SCRIPTS, STYLESHEET))  # inline, nothing in them can end their element


def test_assets_are_shared_and_rewritten_only_when_changed(tmp_path, write_manifest, make_job):
    report = report_of(write_manifest, make_job)
    write_report(report, tmp_path, ["html"])
    script = tmp_path / ASSETS_DIR / "report.js"
    first = script.stat().st_ino
    write_report(report, tmp_path, ["html"])
    assert script.stat().st_ino == first  # unchanged: not written again
    script.write_text("stale")
    write_report(report, tmp_path, ["html"])
    assert script.read_text() != "stale"


def test_a_report_of_1000_points_stays_under_5_mb(tmp_path, write_manifest, make_job):
    report = report_of(write_manifest, make_job, grid="lr: {logspace: [-4, 0, 10]}\ndepth: {range: [0, 10]}\n"
                                                       "opt: [sgd, adam, rmsprop, adagrad, lion, lamb, sam, sophia, "
                                                       "nadam, adamw]",
                       result=lambda spec: {"loss": 1 / (spec.index + 1), "accuracy": spec.index / 1000})
    assert len(report.jobs) == 1000
    [page] = write_report(report, tmp_path, ["html"])
    total = page.stat().st_size + sum(path.stat().st_size for path in (tmp_path / ASSETS_DIR).iterdir())
    assert total < 5_000_000
    assert len(render_html(report).encode()) < 5_000_000
