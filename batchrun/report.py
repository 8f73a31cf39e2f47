"""The report of a batch: one row per point, rebuilt from the platform, and its writers.

``apply`` writes it at the end (also after a failure or Ctrl-C) and ``report`` rebuilds it
at any time without running anything, so it is computed from the manifest and the jobs
the platform holds, never from what one process remembers. Files are written atomically
(temp file + rename): a reader never sees half a report.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from batchrun.client import Platform, RemoteJob, StepInfo
from batchrun.errors import BatchrunError
from batchrun.identity import JobSpec, canonical_json
from batchrun.manifest import Manifest
from batchrun.nesting import dotted
from batchrun.plan import excerpt, newest, resolve_points
from batchrun.states import FAILED, JobState, PointState

FORMAT_VERSION = 1
FORMATS = ("json", "csv", "md", "html")
MARKDOWN_ROWS = 100
FIXED_COLUMNS = ("index", "name", "key", "state", "attempt")
TRAILING_COLUMNS = ("error", "created_at", "started_at", "completed_at", "duration_s", "url")


class StepRef(BaseModel):
    function: str
    version: str
    url: str


class ReportJob(BaseModel):
    """One point of the batch and the newest attempt of its job."""

    index: int
    name: str
    key: str
    parameters: dict[str, Any]
    state: str  # a JobState or PointState value
    result: Any = None  # decoded JSON
    error: str | None = None
    attempt: int | None = None
    attempts: int = 0
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    duration_s: float | None = None
    url: str | None = None


class Report(BaseModel):
    format_version: int = FORMAT_VERSION
    batch: str
    run: str
    manifest_hash: str
    generated_at: datetime
    step: StepRef
    summary: dict[str, int]
    jobs: list[ReportJob]

    @property
    def failed(self) -> list[ReportJob]:
        return [job for job in self.jobs if job.state in FAILED]

    @property
    def complete(self) -> bool:
        """Every point completed."""
        return all(job.state == JobState.COMPLETED for job in self.jobs)


def manifest_hash(manifest: Manifest) -> str:
    """Hash of the effective manifest (after ``--set``), independent of comments and layout."""
    # Serialisation warnings about the grid union do not change the dumped data.
    document = canonical_json(manifest.model_dump(mode="json", warnings=False))
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def report_directory(manifest: Manifest) -> Path:
    """``report.dir`` against the manifest's folder (a no-op when it is already absolute)."""
    return Path(manifest.base_dir) / manifest.report.dir


def build_report(
    manifest: Manifest,
    step: StepInfo,
    specs: Sequence[JobSpec],
    jobs: Iterable[RemoteJob],
    *,
    run: str,
    now: datetime | None = None,
) -> Report:
    """One row per point from the jobs of the run (the newest attempt of each key counts)."""
    moment = now or datetime.now(timezone.utc)
    by_key: dict[str | None, list[RemoteJob]] = defaultdict(list)
    for job in jobs:
        by_key[job.key].append(job)
    timeout = manifest.execution.timeout
    rows = [_row(spec, by_key.get(spec.key, []), timeout, moment) for spec in specs]
    return Report(
        batch=manifest.batch,
        run=run,
        manifest_hash=manifest_hash(manifest),
        generated_at=moment,
        step=StepRef(function=step.function_name, version=step.version, url=step.url),
        summary=dict(Counter(row.state for row in rows)),
        jobs=rows,
    )


def rebuild_report(platform: Platform, manifest: Manifest, *, run: str) -> Report:
    """The report from the platform alone: what ``report`` and ``status`` show."""
    step, specs = resolve_points(platform, manifest)
    return build_report(manifest, step, specs, platform.owned_jobs(manifest.batch, run=run), run=run)


def _row(spec: JobSpec, attempts: list[RemoteJob], timeout: float | None, now: datetime) -> ReportJob:
    point = {"index": spec.index, "name": spec.name, "key": spec.key, "parameters": spec.parameters}
    if not attempts:
        return ReportJob(**point, state=PointState.NOT_CREATED)
    job = newest(attempts)
    state, error = job.state, job.error
    running_for = (now - job.started_at).total_seconds() if job.started_at else None
    if not job.finished and timeout is not None and running_for is not None and running_for > timeout:
        state, error = PointState.TIMED_OUT, f"still {job.state} after the timeout of {timeout:g} s"
    duration = (
        (job.completed_at - job.started_at).total_seconds()
        if job.completed_at and job.started_at
        else None
    )
    return ReportJob(
        **point,
        state=state,
        result=_decode(job.result),
        error=error,
        attempt=job.attempt,
        attempts=len(attempts),
        created_at=job.created_at,
        started_at=job.started_at,
        completed_at=job.completed_at,
        duration_s=duration,
        url=job.url,
    )


def _decode(result: str | None) -> Any:
    if not result:
        return None
    try:
        return json.loads(result)
    except json.JSONDecodeError:
        return result


# -- tabular form (csv, tables) -----------------------------------------------------------


def flat_row(job: ReportJob) -> dict[str, Any]:
    """A point as one flat row: parameters by name, JSON-object results as ``result.<field>``."""
    reserved = set(FIXED_COLUMNS) | set(TRAILING_COLUMNS) | {"result"}
    row: dict[str, Any] = {
        "index": job.index,
        "name": job.name,
        "key": job.key,
        "state": job.state,
        "attempt": job.attempt,
    }
    for name, value in job.parameters.items():
        row[f"param.{name}" if name in reserved or name.startswith("result.") else name] = value
    row.update(dotted("result", job.result))
    row.update(
        {
            "error": job.error,
            "created_at": job.created_at,
            "started_at": job.started_at,
            "completed_at": job.completed_at,
            "duration_s": job.duration_s,
            "url": job.url,
        }
    )
    return row


def table(report: Report) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns (fixed, parameters, results, then times and URL) and the flat rows."""
    rows = [flat_row(job) for job in report.jobs]
    middle: dict[str, None] = {}
    for row in rows:
        for column in row:
            if column not in FIXED_COLUMNS and column not in TRAILING_COLUMNS:
                middle.setdefault(column)
    parameters = [column for column in middle if not column.startswith("result")]
    results = [column for column in middle if column.startswith("result")]
    return [*FIXED_COLUMNS, *parameters, *results, *TRAILING_COLUMNS], rows


def cell(value: Any) -> str:
    """A value as CSV text: UTC ISO times, true/false, JSON for lists and objects."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


# -- writers --------------------------------------------------------------------------------


def render_json(report: Report) -> str:
    return report.model_dump_json(indent=2) + "\n"


def render_csv(report: Report) -> str:
    columns, rows = table(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(column)) for column in columns])
    return buffer.getvalue()


def _summary_line(report: Report) -> str:
    counts = ", ".join(f"{count} {state}" for state, count in sorted(report.summary.items()))
    return f"{len(report.jobs)} points: {counts}" if report.jobs else "no points"


def short_table(report: Report) -> tuple[list[str], list[dict[str, Any]]]:
    """Name, state, parameters and results (what fits in a pull-request comment), flat rows."""
    columns, rows = table(report)
    middle = [c for c in columns if c not in FIXED_COLUMNS and c not in TRAILING_COLUMNS]
    return ["name", "state", *middle, "duration_s"], rows


def short_text(value: Any) -> str:
    """A value for people: floats to 6 significant digits, everything else as in CSV."""
    return f"{value:.6g}" if isinstance(value, float) else cell(value)


def _md_cell(value: Any) -> str:
    return short_text(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report) -> str:
    columns, rows = short_table(report)
    lines = [
        f"## batchrun report: {report.batch}",
        "",
        f"Run `{report.run}` of `{report.step.function}@{report.step.version}` — {_summary_line(report)}.",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    for row in rows[:MARKDOWN_ROWS]:
        lines.append("| " + " | ".join(_md_cell(row.get(column)) for column in columns) + " |")
    if len(rows) > MARKDOWN_ROWS:
        lines += ["", f"… and {len(rows) - MARKDOWN_ROWS} more rows in `{report_stem(report)}.csv`."]
    if report.failed:
        lines += ["", f"### Failed ({len(report.failed)})", ""]
        for job in report.failed[:MARKDOWN_ROWS]:
            lines.append(f"- `{job.name}` ({job.state}): {_md_cell(excerpt(job.error))}")
    return "\n".join(lines) + "\n"


def render_html(report: Report) -> str:
    columns, rows = short_table(report)
    head = "".join(f"<th>{html.escape(column)}</th>" for column in columns)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(cell(row.get(c)))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    title = html.escape(f"batchrun report: {report.batch}")
    return (
        f"<!doctype html>\n<html><head><meta charset='utf-8'><title>{title}</title></head>\n"
        f"<body><h1>{title}</h1><p>{html.escape(_summary_line(report))}</p>\n"
        f"<table border='1'><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"
        "</body></html>\n"
    )


RENDERERS: dict[str, Callable[[Report], str]] = {
    "json": render_json,
    "csv": render_csv,
    "md": render_markdown,
    "html": render_html,
}


def report_stem(report: Report) -> str:
    """The file name stem: the batch name, made safe for any file system."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in report.batch) or "batch"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temp file next to ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def save_report(report: Report, manifest: Manifest) -> list[Path]:
    """Write the report into ``report.dir`` in the manifest's formats; return the paths.

    A folder that cannot take it (read-only, full, a file in the way) fails with a message
    that names the folder and the OS error, and says how to get the report once fixed:
    the results themselves are safe on the platform.
    """
    directory = report_directory(manifest)
    try:
        return write_report(report, directory, manifest.report.formats)
    except OSError as error:
        reason = error.strerror or str(error)
        where = f" ({error.filename})" if error.filename and Path(error.filename) != directory else ""
        raise BatchrunError(
            f"cannot write the report into {directory}: {reason}{where}. The results are safe on "
            f"the platform: free space or fix the folder (or report.dir), then run "
            f"`batchrun report {manifest.source_path}` to write it"
        ) from None


def write_report(report: Report, directory: Path, formats: Sequence[str] = ("json", "csv", "md")) -> list[Path]:
    """Write ``<batch>.<format>`` for each format into ``directory``; return the paths."""
    paths = []
    for form in formats:
        path = directory / f"{report_stem(report)}.{form}"
        write_atomic(path, RENDERERS[form](report))
        paths.append(path)
    return paths
