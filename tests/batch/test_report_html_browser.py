"""The HTML report in headless Chromium: a real sweep applied on the local JMA, its page opened
with every request off the machine blocked and every console error failing the test
(``tests/browser.py``).

The sweep has a logspace axis, two more numeric axes and a categorical one whose values
include a hostile name (``<img src=x onerror=alert(1)>``) and one that makes the step fail
with hostile error text, so the same page shows every plot kind, the failures and the
escaping.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser import WatchedPage
from tests.support import STEPS_DIR, read_report, run_batchrun

HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_ERROR = "</script><!-- <b>bad</b> optimizer <img src=x onerror=alert(2)>"
BATCH = "html-sweep"
MANIFEST = f"""\
version: 1
batch: {BATCH}
step: {{function: score, version: "1.0.0"}}
local: {{steps: [{STEPS_DIR / "report_steps.py"}], workers: 2}}
grid:
  lr: {{logspace: [-3, -1, 3]}}
  depth: [2, 4]
  momentum: [0.0, 0.9]
  optimizer: [sgd, "{HOSTILE}", broken]
name: "{{{{ optimizer }}}} lr={{{{ lr }}}} d={{{{ depth }}}} m={{{{ momentum }}}}"
report: {{formats: [json, html]}}
"""
NAMED_PLOT = "report.plots=[{x: lr, y: result.loss, color: optimizer, kind: line, log_x: true}]"


@dataclass(frozen=True)
class Sweep:
    manifest: Path
    page: Path
    report: dict[str, Any]

    @property
    def completed(self) -> int:
        return sum(job["state"] == "Completed" for job in self.report["jobs"])

    @property
    def failed(self) -> int:
        return sum(job["state"] == "Error" for job in self.report["jobs"])


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sweep]:
    """The sweep applied once (some points fail on purpose, so apply exits 1)."""
    folder = tmp_path_factory.mktemp("html-report")
    manifest = folder / "sweep.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    applied = run_batchrun("apply", str(manifest), "--yes", cwd=folder)
    assert applied.returncode == 1, applied.stdout + applied.stderr
    yield Sweep(manifest, folder / "reports" / f"{BATCH}.html", read_report(manifest, BATCH))


def open_report(watched: WatchedPage, page_file: Path) -> Any:
    page = watched.page
    page.on("dialog", lambda dialog: watched.console_errors.append(f"dialog opened: {dialog.message}"))
    page.goto(page_file.as_uri())
    page.wait_for_selector("#report[data-ready]")
    return page


def plots(page: Any) -> list[dict[str, Any]]:
    """Every plot's kind, marks and points as the page's script recorded them after drawing
    (each is drawn when it comes near the screen, so each is scrolled to first)."""
    figures = page.locator("figure.plot")
    for position in range(figures.count()):
        figures.nth(position).scroll_into_view_if_needed()
        page.wait_for_selector(f"figure.plot:nth-child({position + 1})[data-marks]")
    return page.eval_on_selector_all(
        "figure.plot",
        "figures => figures.map(f => ({kind: f.dataset.kind, marks: +f.dataset.marks, points: +f.dataset.points,"
        " title: f.querySelector('figcaption').textContent}))",
    )


def test_every_plot_shows_every_completed_point(browser_page: WatchedPage, sweep: Sweep) -> None:
    page = open_report(browser_page, sweep.page)
    on_screen = page.eval_on_selector_all("figure.plot[data-marks]", "figures => figures.length")
    assert 1 <= on_screen < 9  # drawn at once; the others as they come near the screen
    drawn = plots(page)
    assert sweep.completed == 24 and sweep.failed == 12
    assert [plot["kind"] for plot in drawn] == ["scatter"] * 6 + ["heatmap", "parallel", "histogram"]
    for plot in drawn:
        assert plot["points"] == sweep.completed, plot
        if plot["kind"] in ("scatter", "parallel"):
            assert plot["marks"] == sweep.completed, plot
    heatmap = next(plot for plot in drawn if plot["kind"] == "heatmap")
    assert heatmap["marks"] == 3 * 2  # lr x depth cells, each the mean over momentum and optimizer
    assert drawn[0]["title"] == "result.loss vs lr"
    axis_types = page.evaluate(
        "() => Array.from(document.querySelectorAll('figure.plot-scatter .chart'))"
        ".map(el => echarts.getInstanceByDom(el).getOption().xAxis[0].type)"
    )
    assert axis_types == ["log", "value", "value"] * 2  # lr was a logspace


def test_the_header_names_the_batch_and_counts_each_state(browser_page: WatchedPage, sweep: Sweep) -> None:
    page = open_report(browser_page, sweep.page)
    assert page.text_content("header h1") == BATCH
    facts = page.text_content("header .facts")
    assert "score@1.0.0" in facts and "run1" in facts
    legend = page.eval_on_selector_all("header .legend li", "items => items.map(i => i.textContent)")
    assert legend == ["Completed 24", "Error 12"]
    assert page.get_attribute("header .bar", "aria-label") == "Completed 24, Error 12"


def test_the_table_sorts_and_filters(browser_page: WatchedPage, sweep: Sweep) -> None:
    page = open_report(browser_page, sweep.page)
    table = page.locator("section.points table")
    assert table.get_attribute("data-rows") == str(len(sweep.report["jobs"]))
    headers = page.eval_on_selector_all("section.points th", "cells => cells.map(c => c.textContent)")
    loss_column = headers.index("result.loss")

    def losses() -> list[str]:
        return page.eval_on_selector_all(
            "section.points tbody tr", f"rows => rows.map(r => r.cells[{loss_column}].textContent)")

    page.click("section.points th >> text=result.loss")
    ascending = losses()
    numbers = [float(text) for text in ascending if text]
    assert numbers == sorted(numbers) and len(numbers) == sweep.completed
    assert ascending[len(numbers):] == [""] * sweep.failed  # failed points have no loss: last
    page.click("section.points th >> text=result.loss")
    numbers = [float(text) for text in losses() if text]
    assert numbers == sorted(numbers, reverse=True)
    page.fill("section.points input[type=search]", "broken")
    assert table.get_attribute("data-rows") == str(sweep.failed)
    page.fill("section.points input[type=search]", "")
    page.select_option("section.points select", "Completed")
    assert table.get_attribute("data-rows") == str(sweep.completed)
    states = page.eval_on_selector_all("section.points tbody tr", "rows => rows.map(r => r.cells[1].textContent)")
    assert set(states) == {"Completed"}


def test_hostile_names_and_errors_render_as_text(browser_page: WatchedPage, sweep: Sweep) -> None:
    raw = sweep.page.read_text(encoding="utf-8")
    assert HOSTILE not in raw and "</script><!--" not in raw.split('id="report-data">', 1)[1].split("</script>")[0]
    page = open_report(browser_page, sweep.page)
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    names = page.eval_on_selector_all("section.points tbody tr", "rows => rows.map(r => r.cells[0].textContent)")
    assert f"{HOSTILE} lr=0.001 d=2 m=0.0" in names
    errors = page.eval_on_selector_all("section.failures pre.error", "blocks => blocks.map(b => b.textContent)")
    assert len(errors) == sweep.failed
    assert all(HOSTILE_ERROR in text for text in errors)
    logs = page.eval_on_selector_all("section.failures pre.log", "blocks => blocks.map(b => b.textContent)")
    assert len(logs) == sweep.failed and all(text.endswith(f"ERROR ValueError: {HOSTILE_ERROR}") for text in logs)
    assert page.get_attribute("section.failures", "data-count") == str(sweep.failed)


def test_hovering_a_mark_shows_the_point(browser_page: WatchedPage, sweep: Sweep) -> None:
    """The tooltip of a mark names the point (a hostile one here) with its parameters and result."""
    page = open_report(browser_page, sweep.page)
    where = page.evaluate("""() => {
        const figure = document.querySelector('figure.plot-scatter');
        figure.scrollIntoView();
        const box = figure.querySelector('.chart');
        const chart = echarts.getInstanceByDom(box);
        const series = chart.getOption().series.findIndex(s => s.name.includes('<img'));
        const item = chart.getOption().series[series].data[0];
        const [x, y] = chart.convertToPixel({seriesIndex: series}, [item[0], item[1]]);
        const rect = box.getBoundingClientRect();
        return {x: rect.left + x, y: rect.top + y};
    }""")
    page.mouse.move(where["x"], where["y"])
    tip = page.wait_for_selector("figure.plot-scatter .tip")
    text = tip.text_content()
    assert HOSTILE in text and "result.loss" in text and "momentum" in text
    assert page.evaluate("document.querySelectorAll('img').length") == 0


def test_plots_named_in_the_manifest_replace_the_automatic_ones(browser_page: WatchedPage, sweep: Sweep) -> None:
    done = run_batchrun("report", str(sweep.manifest), "--set", NAMED_PLOT, "--set", "report.dir=named", "-q",
                        cwd=sweep.manifest.parent)
    assert done.returncode == 1, done.stderr  # some points failed
    page = open_report(browser_page, sweep.manifest.parent / "named" / sweep.page.name)
    assert plots(page) == [{"kind": "line", "marks": sweep.completed, "points": sweep.completed,
                            "title": "result.loss vs lr"}]
    options = page.evaluate("() => { const o = echarts.getInstanceByDom(document.querySelector('.chart'))"
                            ".getOption(); return {x: o.xAxis[0].type, series: o.series.map(s => s.name)}; }")
    assert options == {"x": "log", "series": ["optimizer = sgd", f"optimizer = {HOSTILE}"]}


def test_the_page_printed_by_report_o_html_opens_on_its_own(browser_page: WatchedPage, sweep: Sweep,
                                                            tmp_path: Path) -> None:
    """``-o html`` prints the page with its scripts inline (allowed by hash in its CSP)."""
    printed = run_batchrun("report", str(sweep.manifest), "-o", "html", cwd=sweep.manifest.parent)
    assert printed.returncode == 1, printed.stderr
    alone = tmp_path / "elsewhere.html"
    alone.write_text(printed.stdout, encoding="utf-8")
    page = open_report(browser_page, alone)
    assert [plot["points"] for plot in plots(page)] == [sweep.completed] * 9
    assert json.loads(page.text_content("#report-data"))["header"]["batch"] == BATCH
