"""``batchrun.results()``: the report's rows in Python, read from the platform as
``batchrun report`` reads them, and ``.to_pandas()`` (the ``batchrun[pandas]`` extra)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import batchrun
from batchrun.errors import PlatformError
from batchrun.manifest import ManifestError
from tests.batch.conftest import SERVE_KEY
from tests.support import STEPS_DIR, read_report, run_batchrun


@pytest.fixture
def pandas():
    """pandas, the batchrun[pandas] extra (`make test` installs it)."""
    return pytest.importorskip("pandas", reason="pandas is the batchrun[pandas] extra; `make test` installs it")


def same_origin(rows: list[dict]) -> list[dict]:
    """Rows with every URL's origin dropped: each command's embedded JMA listens on a port of its own."""
    return [{name: re.sub(r"^http://127\.0\.0\.1:\d+", "", value) if name in ("url", "logs_url", "metrics_url") and value else value
             for name, value in row.items()} for row in rows]


def manifest(folder: Path, function: str, batch: str) -> Path:
    path = folder / f"{batch}.yaml"
    path.write_text(
        "version: 1\n"
        f"batch: {batch}\n"
        f'step: {{function: {function}, version: "1.0.0"}}\n'
        f"local: {{steps: [{STEPS_DIR / 'diff_steps.py'}], workers: 2}}\n"
        "parameters: {}\n"
        "grid: {x: [1, 2, 3]}\n"
        'name: "{{ batch }}-{{ x }}"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two batches on one embedded JMA: ``scores`` (dict results; x=3 fails, run 1 only) and
    ``squares`` (scalar results); then `report -o json` writes each report."""
    folder = tmp_path_factory.mktemp("results")
    scores, squares = manifest(folder, "score", "scores"), manifest(folder, "square", "squares")
    failing = run_batchrun("apply", str(scores), "--yes", env={"DIFF_FAIL_AT": "3"}, cwd=folder)
    assert failing.returncode == 1, failing.stderr
    assert run_batchrun("apply", str(scores), "--yes", "--run", "2", cwd=folder).returncode == 0
    assert run_batchrun("apply", str(squares), "--yes", cwd=folder).returncode == 0
    assert run_batchrun("report", str(scores), "-o", "json", cwd=folder).returncode == 1  # x=3 failed
    assert run_batchrun("report", str(squares), "-o", "json", cwd=folder).returncode == 0
    return folder


def test_rows_are_what_batchrun_report_wrote(applied):
    rows = batchrun.results(applied / "scores.yaml")
    written = read_report(applied / "scores.yaml", "scores")
    assert same_origin([row.document() for row in rows]) == same_origin(written["jobs"])
    assert rows.report.run == "1" and rows.report.summary == written["summary"]
    first = rows[0]
    assert first.parameters == {"x": 1} and first.state == "Completed" and first.duration_s is not None
    assert first.result == {"loss": 2.0, "metrics": {"acc": 0.9, "epochs": 3}, "label": "fixed"}
    assert rows[2].state == "Error" and "told to fail" in rows[2].error


def test_another_run_and_overrides(applied):
    rows = batchrun.results(str(applied / "scores.yaml"), run="2")
    assert [row.state for row in rows] == ["Completed"] * 3 and rows.report.run == "2"
    narrowed = batchrun.results(applied / "scores.yaml", run="2", overrides=["grid.x=[2]"])
    assert [row.name for row in narrowed] == ["scores-2"]


def test_dict_results_become_one_column_per_field(applied, pandas):
    frame = batchrun.results(applied / "scores.yaml").to_pandas()
    assert isinstance(frame, pandas.DataFrame) and len(frame) == 3
    columns = list(frame.columns)
    assert columns[:6] == ["index", "name", "key", "state", "attempt", "x"]
    results = [column for column in columns if column.startswith("result")]
    assert results == ["result.loss", "result.metrics.acc", "result.metrics.epochs", "result.label"]  # no bare `result`
    assert frame["result.loss"].tolist()[:2] == [2.0, 4.0] and pandas.isna(frame["result.loss"][2])
    assert frame["state"].tolist() == ["Completed", "Completed", "Error"]
    assert str(frame["completed_at"].dtype).startswith("datetime64")
    assert frame.groupby("state")["x"].count().to_dict() == {"Completed": 2, "Error": 1}


def test_scalar_results_are_the_result_column(applied, pandas):
    frame = batchrun.results(applied / "squares.yaml").to_pandas()
    assert frame.set_index("x")["result"].to_dict() == {1: 1.0, 2: 4.0, 3: 9.0}


def test_endpoint_from_the_environment_as_the_cli_takes_it(jma, write_manifest, monkeypatch):
    path = write_manifest("results-served", grid="a: [1, 2]")
    done = run_batchrun("apply", str(path), "--yes", "--endpoint", jma.url)
    assert done.returncode == 0, done.stderr
    monkeypatch.setenv("PINEXQ_ENDPOINT", jma.url)
    rows = batchrun.results(path)
    assert [row.result["sum"] for row in rows] == [11.0, 12.0]
    assert all(row.url.startswith(jma.url) for row in rows)
    assert not (path.parent / ".batchrun" / "localjma.sqlite3").exists()  # no embedded JMA was started
    monkeypatch.delenv("PINEXQ_ENDPOINT")
    assert [row.state for row in batchrun.results(path, endpoint=jma.url)] == ["Completed"] * 2


def test_a_broken_manifest_raises_the_manifest_error(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\nbatch: b\nstep: {function: f}\ngrid: {x: 3}\n", encoding="utf-8")
    with pytest.raises(ManifestError, match=r"broken\.yaml:4"):
        batchrun.results(path)


def test_without_pandas_to_pandas_names_the_extra(applied):
    script = (
        "import sys\n"
        "sys.modules['pandas'] = None  # as if the extra were not installed\n"
        "import batchrun\n"
        "from batchrun.errors import MissingExtraError\n"
        f"rows = batchrun.results({str(applied / 'squares.yaml')!r})\n"
        "try:\n"
        "    rows.to_pandas()\n"
        "except ImportError as error:\n"
        "    assert isinstance(error, MissingExtraError) and error.__cause__ is None and error.__suppress_context__\n"
        "    print(error)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Results.to_pandas() needs the optional extra 'pandas': pip install 'batchrun[pandas]'"


def test_an_api_key_by_argument_or_environment_and_never_in_an_error(served, write_manifest, monkeypatch):
    path = write_manifest("results-keyed", grid="a: [1]")
    keyed = {"PINEXQ_ENDPOINT": served.url, "PINEXQ_API_KEY": SERVE_KEY}
    assert run_batchrun("apply", str(path), "--yes", env=keyed).returncode == 0
    assert batchrun.results(path, endpoint=served.url, api_key=SERVE_KEY)[0].state == "Completed"
    for name, value in keyed.items():
        monkeypatch.setenv(name, value)
    assert batchrun.results(path)[0].result == {"sum": 11.0, "product": 10.0}
    with pytest.raises(PlatformError, match="HTTP 401") as refused:
        batchrun.results(path, api_key="wrong-" + SERVE_KEY)
    assert SERVE_KEY not in str(refused.value)
