"""The report files byte for byte: a report holding every kind of value a row can hold is
written exactly as the files pinned in ``pinned_report/`` say, so a faster writer cannot
change a single byte that readers of the JSON and CSV files (or the Markdown) depend on.

The pinned files were written by the writers as they were before they were rewritten for
speed. Regenerate them only for a deliberate change of the format
(``python -m tests.batch.test_report_bytes``), and say so in the commit.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from batchrun.manifest.models import Plot
from batchrun.report import Report, ReportJob, ReportLogLine, ReportOutput
from batchrun.report.formats import render_csv, render_json, render_markdown
from batchrun.report.model import HistoryEntry, ReportAxis, SearchSummary, StepRef

PINNED = Path(__file__).with_name("pinned_report")
MOMENT = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
WHOLE_SECOND = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
JOB = "http://jma.test/api/Job/"
TEXT = 'line one\nline "two"\t| pipe, comma; é ü 🙂 \x00 \u2028 <tag> & `tick`'


def _rows() -> list[ReportJob]:
    return [
        ReportJob(
            index=0, name="job-0", key="k0", parameters={"lr": 9.9e-05, "depth": 3, "opt": {"name": "adam", "beta": [0.9, 0.999]}},
            state="Completed",
            result={"loss": 9.9e-05, "big": 1e20, "huge": 10**20, "neg": -0.0, "flag": True, "none": None, "text": TEXT,
                    "deep": {"x": 1, "y": {"z": [1, 2.5, "three"]}, "empty": {}}, "list": [], "tiny": 5e-324},
            attempt=1, attempts=1, created_at=MOMENT, started_at=MOMENT + timedelta(microseconds=1),
            completed_at=MOMENT + timedelta(seconds=2.5), duration_s=2.499999, url=JOB + "0",
            logs="/Logs", metrics="/Metrics",
            outputs=(
                ReportOutput(slot="out", name="table.csv", media_type="text/csv", size=1234567, url="http://jma.test/api/WorkData/1",
                             download_url="http://jma.test/api/WorkData/1/Download", created_at=MOMENT),
                ReportOutput(slot="plot", name="a b|c).png", url="http://jma.test/api/WorkData/2"),
            ),
            cpu_seconds=0.125, peak_memory_bytes=123456789,
        ),
        ReportJob(
            index=1, name="job-1 ✗", key="k1", parameters={"lr": 1e20, "depth": -1, "opt": {"name": "sgd", "beta": []}},
            state="Error", error="Traceback (most recent call last):\n" + TEXT, attempt=3, attempts=2,
            created_at=WHOLE_SECOND, started_at=WHOLE_SECOND, completed_at=WHOLE_SECOND + timedelta(seconds=1),
            duration_s=1.0, url=JOB + "1", logs="/Logs", metrics="http://elsewhere.test/metrics/1",
            log_tail=(
                ReportLogLine(timestamp=WHOLE_SECOND, level="INFO", message="started"),
                ReportLogLine(level="ERROR", message=TEXT),
            ),
        ),
        ReportJob(index=2, name="job-2", key="k2", parameters={"lr": 0.5}, state="Completed", result=math.nan,
                  attempt=1, attempts=1, created_at=MOMENT, duration_s=math.inf, cpu_seconds=math.nan),
        ReportJob(index=3, name="job-3", key="k3", parameters={"lr": 0.25}, state="Completed",
                  result={"loss": math.inf, "gain": -math.inf, "nan": math.nan}, attempt=1, attempts=1),
        ReportJob(index=4, name="job-4", key="k4", parameters={"state": "p", "url": "u", "result.x": 1},
                  state="Completed", result=[1, 2.5, "x", None, {"a": 1}], attempt=1, attempts=1),
        ReportJob(index=5, name="job-5", key="k5", parameters={}, state="Completed", result=3.5, attempt=1, attempts=1),
        ReportJob(index=6, name="job-6", key="k6", parameters={"lr": 1e-07}, state="Completed", result="plain text",
                  attempt=1, attempts=1),
        ReportJob(index=7, name="job-7", key="k7", parameters={"lr": 1}, state="Completed", result=True,
                  attempt=1, attempts=1),
        ReportJob(index=8, name="job-8", key="k8", parameters={"lr": 2}, state="NotCreated"),
        ReportJob(
            index=9, name="job-9", key="k9", parameters={"lr": 3}, state="TimedOut",
            error="still Processing after the timeout of 30 s", attempt=1, attempts=1,
            created_at=datetime(2026, 3, 4, 7, 0, 0, 5, tzinfo=timezone(timedelta(hours=2))),
            started_at=datetime(2026, 3, 4, 7, 0, 1, tzinfo=timezone(timedelta(hours=2))), url=JOB + "9",
            logs=JOB + "9/Logs", metrics="/Metrics",
        ),
        ReportJob(index=10, name="job-10", key="k10", parameters={"lr": 4}, state="Completed", result=0,
                  attempt=1, attempts=1, peak_memory_bytes=0, cpu_seconds=0.0, duration_s=0.0),
    ]


def _report(*, jobs: bool = True, search: bool = False) -> Report:
    rows = _rows() if jobs else []
    summary: dict[str, int] = {}
    for row in rows:
        summary[row.state] = summary.get(row.state, 0) + 1
    history = [HistoryEntry(trial=0, name="job-0", value=9.9e-05, best=9.9e-05, completed_at=MOMENT),
               HistoryEntry(trial=1, name="job-1 ✗", value=None, best=9.9e-05, error="no 'loss' in the result")]
    return Report(
        batch="pinned batch/ü",
        run="1",
        revision={"data": "v2", "seed": 7},
        manifest_hash="f" * 64,
        generated_at=MOMENT,
        step=StepRef(function="add", version="1.0.0", url="http://jma.test/api/ProcessingStep/1"),
        summary=summary,
        axes=[ReportAxis(name="lr", numeric=True, log=True), ReportAxis(name="opt", numeric=False)],
        plots=[Plot(x="lr", y="result.loss", kind="line", log_x=True)],
        jobs=rows,
        search=SearchSummary(strategy="tpe", objective="loss", direction="minimize", budget=12, trials=11,
                             best_trial=0, best_value=9.9e-05, history=history) if search else None,
    )


CASES = {
    "report": lambda: _report(),
    "search": lambda: _report(search=True),
    "empty": lambda: _report(jobs=False),
}
WRITTEN = {"json": render_json, "csv": render_csv, "md": render_markdown}


@pytest.mark.parametrize("form", WRITTEN)
@pytest.mark.parametrize("case", CASES)
def test_the_report_files_are_the_pinned_bytes(case: str, form: str) -> None:
    written = WRITTEN[form](CASES[case]()).encode("utf-8")
    assert written == (PINNED / f"{case}.{form}").read_bytes()


if __name__ == "__main__":
    PINNED.mkdir(exist_ok=True)
    for case, build in CASES.items():
        for form, render in WRITTEN.items():
            (PINNED / f"{case}.{form}").write_bytes(render(build()).encode("utf-8"))
