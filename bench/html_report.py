"""Benchmark: the HTML report of a 10,000-point sweep in headless Chromium.

Run with ``python -m bench.html_report [--points N] [--repeat K]``. The report is built
from the manifest's points and job records as the platform returns them (4 axes, one a
logspace and one categorical; a dict result; 5 % failures), written as ``apply`` writes
it, and opened from disk in the system's Chromium (``apt-get install -y chromium``) with
a fresh tab each time. Measured: the page's size, the time to interactive (navigation
start until the page's script has drawn every plot and the table: ``data-ready-ms``, and
the wall time until Playwright sees it), and how long a table sort and a filter take
afterwards. Target: under 2 s to interactive for 10,000 points.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from batchrun.client import RemoteJob, StepInfo
from batchrun.identity import ownership_tags
from batchrun.manifest import expand, load_manifest
from batchrun.report import build_report
from batchrun.report.formats import write_report
from batchrun.report.html import ASSETS_DIR

OPTIMIZERS = ["sgd", "adam", "rmsprop", "adagrad", "lion"]
START = datetime(2026, 1, 1, tzinfo=UTC)


def manifest_text(points: int) -> str:
    depth = max(1, points // (20 * 10 * len(OPTIMIZERS)))
    return f"""version: 1
batch: bench-html
step: {{function: train, version: "1.0.0"}}
grid:
  lr: {{logspace: [-5, 0, 20]}}
  depth: {{range: [1, {depth + 1}]}}
  momentum: {{linspace: [0.0, 0.9, 10]}}
  optimizer: {OPTIMIZERS}
name: "{{{{ optimizer }}}}-lr{{{{ lr }}}}-d{{{{ depth }}}}-m{{{{ momentum }}}}"
report: {{formats: [html]}}
"""


def job_record(spec: Any, position: int) -> RemoteJob:
    """The job of one point as a query page returns it; every 20th failed."""
    failed = position % 20 == 7
    params = spec.parameters
    loss = math.exp(-params["lr"] * 50 * (1 + params["momentum"])) + 0.01 * params["depth"]
    created = START + timedelta(seconds=position * 0.05)
    return RemoteJob(
        url=f"http://jma.bench/api/Job/{position}", name=spec.name, state="Error" if failed else "Completed",
        tags=tuple(ownership_tags("bench-html", spec.key, spec.spec, "1", 1)),
        result=None if failed else json.dumps({"loss": round(loss, 6), "accuracy": round(1 - loss / 2, 6)}),
        error="Traceback (most recent call last):\nValueError: diverged" if failed else None,
        created_at=created, started_at=created + timedelta(seconds=0.1),
        completed_at=created + timedelta(seconds=0.1 + (position % 37) / 10),
        key=spec.key, spec=spec.spec, run="1", attempt=1,
    )


def write_page(folder: Path, points: int) -> Path:
    manifest_file = folder / "bench.yaml"
    manifest_file.write_text(manifest_text(points), encoding="utf-8")
    manifest = load_manifest(manifest_file)
    specs = expand(manifest)
    step = StepInfo(url="http://jma.bench/api/ProcessingStep/1", function_name="train", version="1.0.0",
                    parameter_schema=None)
    report = build_report(manifest, step, specs, [job_record(spec, n) for n, spec in enumerate(specs)], run="1")
    [page] = write_report(report, folder / "reports", ["html"])
    print(f"{len(specs):,} points; page {page.stat().st_size / 1e6:.2f} MB, shared assets "
          f"{sum(p.stat().st_size for p in (page.parent / ASSETS_DIR).iterdir()) / 1e6:.2f} MB")
    return page


def measure(browser: Any, page_file: Path) -> dict[str, float]:
    """One fresh tab: time to interactive, then a sort and a filter of the table."""
    import time

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    begin = time.perf_counter()
    page.goto(page_file.as_uri())
    page.wait_for_selector("#report[data-ready]", timeout=60_000)
    wall = time.perf_counter() - begin
    ready = float(page.get_attribute("#report", "data-ready-ms") or "nan") / 1000
    timing = page.evaluate("""async () => {
        const settle = () => new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)));
        let start = performance.now();
        Array.from(document.querySelectorAll('section.points th button'))
            .find(button => button.textContent === 'result.loss').click();
        await settle();
        const sort = performance.now() - start;
        const input = document.querySelector('section.points input[type=search]');
        start = performance.now();
        input.value = 'adam';
        input.dispatchEvent(new Event('input'));
        await settle();
        return {sort: sort / 1000, filter: (performance.now() - start) / 1000};
    }""")
    context.close()
    if errors:
        raise SystemExit(f"the page failed: {errors}")
    return {"ready_s": ready, "wall_s": wall, "sort_s": timing["sort"], "filter_s": timing["filter"]}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.html_report", description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Chromium is not installed: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        page_file = write_page(Path(folder), options.points)
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        runs = [measure(browser, page_file) for _ in range(options.repeat)]
        browser.close()
    for name in ("ready_s", "wall_s", "sort_s", "filter_s"):
        values = [run[name] for run in runs]
        print(f"{name:9} median {statistics.median(values):.3f} s  (min {min(values):.3f}, max {max(values):.3f})")


if __name__ == "__main__":
    main()
