"""A report in its formats (JSON, CSV, Markdown, HTML) and as files in ``report.dir``.

The HTML page is built in :mod:`batchrun.report.html`; its file links the scripts it shares
with the batch's other pages from ``report.dir/_assets``.

Files are written atomically (temp file + rename): a reader never sees half a report. The
JSON, CSV and Markdown files are written row by row as each row is made, so a report of
100,000 points is held once (its rows), not again as flat rows or as one long text.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from typing import IO, Any

from pydantic_core import from_json, to_json

from batchrun.errors import BatchrunError
from batchrun.manifest import Manifest
from batchrun.plan import excerpt
from batchrun.report.atomic import atomic_file, write_atomic
from batchrun.report.html import linked_html, render_html, write_assets
from batchrun.report.labels import human_size, log_excerpt, output_label
from batchrun.report.model import RESULT, Report, ReportJob, flatten_result
from batchrun.report.parallel import meanwhile
from batchrun.report.search_view import HISTORY_COLUMNS, history_rows, search_headline

FORMATS = ("json", "csv", "md", "html")
MARKDOWN_ROWS = 100
FIXED_COLUMNS = ("index", "name", "key", "state", "attempt")
COST_COLUMNS = ("cpu_seconds", "peak_memory_bytes")
TRAILING_COLUMNS = ("error", "created_at", "started_at", "completed_at", "duration_s", *COST_COLUMNS, "url")
OUTPUTS_COLUMN = "outputs"  # last, in reports where some job has output WorkData
OUTPUT_FIELDS = ("slot", "name", "media_type", "size", "url", "download_url")


# -- tabular form (csv, tables) -----------------------------------------------------------


_RESERVED = frozenset({*FIXED_COLUMNS, *TRAILING_COLUMNS, "result", OUTPUTS_COLUMN})


def _parameter_column(name: str) -> str:
    """A parameter's column: its name, unless a column of the report's own has it."""
    return f"param.{name}" if name in _RESERVED or name.startswith("result.") else name


def flat_row(job: ReportJob) -> dict[str, Any]:
    """A point as one flat row: parameters by name, JSON-object results as ``result.<field>``."""
    row: dict[str, Any] = {
        "index": job.index,
        "name": job.name,
        "key": job.key,
        "state": job.state,
        "attempt": job.attempt,
    }
    for name, value in job.parameters.items():
        row[_parameter_column(name)] = value
    row.update(flatten_result(job.result))
    row.update(
        {
            "error": job.error,
            "created_at": job.created_at,
            "started_at": job.started_at,
            "completed_at": job.completed_at,
            "duration_s": job.duration_s,
            "cpu_seconds": job.cpu_seconds,
            "peak_memory_bytes": job.peak_memory_bytes,
            "url": job.url,
        }
    )
    if job.outputs:
        row[OUTPUTS_COLUMN] = _output_documents(job)
    return row


def _output_documents(job: ReportJob) -> list[dict[str, Any]]:
    return [{field: getattr(data, field) for field in OUTPUT_FIELDS} for data in job.outputs]


def table(report: Report) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Columns (fixed, parameters, results, then times and URL) and the flat rows, made one
    at a time as they are read."""
    return _columns(report)[0], map(flat_row, report.jobs)


def _columns(report: Report) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """The table's columns, from one pass over parameter names and results that makes no row,
    and the parameters each parameter column shows (two, when a parameter is named like
    another one's column: ``state`` and ``param.state``)."""
    middle: dict[str, None] = {}
    shown: dict[str, tuple[str, ...]] = {}
    seen: dict[str, None] = {}  # every parameter name so far (most points bring no new one)
    outputs: list[str] = []
    for job in report.jobs:
        if not job.parameters.keys() <= seen.keys():
            for name in job.parameters:
                if name not in seen:
                    seen[name] = None
                    column = _parameter_column(name)
                    middle.setdefault(column)
                    shown[column] = (*shown.get(column, ()), name)
        if job.result is not None:
            for column in flatten_result(job.result):
                middle.setdefault(column)
        if job.outputs:
            outputs = [OUTPUTS_COLUMN]
    parameters = [column for column in middle if not column.startswith("result")]
    results = [column for column in middle if column.startswith("result")]
    return [*FIXED_COLUMNS, *parameters, *results, *TRAILING_COLUMNS, *outputs], shown


def cell(value: Any) -> str:
    """A value as CSV text: UTC ISO times, true/false, JSON for lists and objects."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


# -- writers --------------------------------------------------------------------------------


ROWS_AT_ONCE = 1000
"""Rows the JSON writer serialises in one call: a call per row costs more than its row, one
call for all would hold the whole file's text."""


_JOBS_HEAD, _JOBS_TAIL = b'{\n  "jobs": [', b"\n  ]\n}"


def write_json(report: Report, out: IO[str]) -> None:
    """The report as JSON (``indent=2``), its rows written ``ROWS_AT_ONCE`` at a time."""
    head = report.model_dump_json(indent=2, exclude={"jobs", "search"})
    out.write(head[: head.rindex("\n}")] + ',\n  "jobs": [')
    jobs = report.jobs
    for start in range(0, len(jobs), ROWS_AT_ONCE):
        rows = [job.json_fields() for job in jobs[start : start + ROWS_AT_ONCE]]
        # The rows indented as in the report's "jobs": '{\n  "jobs": [\n    {…},\n    {…}\n  ]\n}' less its frame.
        text = to_json({"jobs": rows}, indent=2, inf_nan_mode="null")[len(_JOBS_HEAD) : -len(_JOBS_TAIL)]
        out.write(("," if start else "") + text.decode())
    out.write("\n  ]," if jobs else "],")
    search = "null" if report.search is None else report.search.model_dump_json(indent=2).replace("\n", "\n  ")
    out.write(f'\n  "search": {search}\n}}\n')


ColumnOf = Callable[[list[ReportJob], list[dict[str, Any]]], list[Any]]
"""A CSV column's cells for a run of rows, from the rows and their flattened results: texts,
or values the csv module writes as :func:`cell` does (see ``_AS_IS``). Made a column at a
time, as one loop per column costs far less than a call per cell."""

_AS_IS = frozenset({str, int, float, type(None)})
"""What the csv module writes as :func:`cell` does: a text as it is, ``str()`` of a number
(a float's repr), None as nothing. Subclasses (bool, enums) are not in it."""


def _as_is(values: Iterable[Any]) -> list[Any]:
    return [value if type(value) in _AS_IS else cell(value) for value in values]


def _field_cells(field: str) -> ColumnOf:
    """A field of the row that is a text or a whole number (or None): written as it is."""
    get = attrgetter(field)
    return lambda jobs, _: list(map(get, jobs))


def _value_cells(field: str) -> ColumnOf:
    get = attrgetter(field)
    return lambda jobs, _: _as_is(map(get, jobs))


def _time_cells(field: str) -> ColumnOf:
    """:func:`cell` of a time. pydantic-core writes times in UTC as :func:`cell` does (and as
    the JSON file has them), a column of them in one call: the times a platform gives."""
    get = attrgetter(field)

    def cells(jobs: list[ReportJob], _: list[dict[str, Any]]) -> list[Any]:
        moments = list(map(get, jobs))
        if all(moment is None or moment.tzinfo is UTC for moment in moments):
            texts: list[Any] = from_json(to_json(moments))
            return texts
        return list(map(cell, moments))

    return cells


def _output_cells(jobs: list[ReportJob], _: list[dict[str, Any]]) -> list[Any]:
    return [cell(_output_documents(job)) if job.outputs else None for job in jobs]


_FIELD_CELLS: dict[str, ColumnOf] = {
    **{field: _field_cells(field) for field in ("index", "name", "key", "state", "attempt", "error", "url")},
    **{field: _time_cells(field) for field in ("created_at", "started_at", "completed_at")},
    **{field: _value_cells(field) for field in ("duration_s", *COST_COLUMNS)},
    OUTPUTS_COLUMN: _output_cells,
}
"""The columns of the report's own fields, each converted as its type needs."""


def _parameter_cells(names: tuple[str, ...]) -> ColumnOf:
    if len(names) == 1:
        [name] = names
        return lambda jobs, _: _as_is(job.parameters.get(name) for job in jobs)
    # Two parameters in one column: the row's last one, as in its flat row.
    return lambda jobs, _: _as_is(
        next((value for name, value in reversed(job.parameters.items()) if name in names), None) for job in jobs
    )


def _result_cells(column: str) -> ColumnOf:
    return lambda _, results: _as_is(result.get(column) for result in results)


def write_csv(report: Report, out: IO[str]) -> None:
    """The flat rows of :func:`table` as CSV, ``ROWS_AT_ONCE`` rows at a time made column by
    column (no flat row per point)."""
    columns, shown = _columns(report)
    makers: dict[str, ColumnOf] = {column: _parameter_cells(names) for column, names in shown.items()}
    results = [column for column in columns if column == RESULT or column.startswith(f"{RESULT}.")]
    makers.update({column: _result_cells(column) for column in results})
    makers.update(_FIELD_CELLS)
    if report.search is not None:
        columns = [*columns, *SEARCH_COLUMNS]
        makers.update(_history_cells(report))
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    jobs = report.jobs
    for start in range(0, len(jobs), ROWS_AT_ONCE):
        rows = jobs[start : start + ROWS_AT_ONCE]
        flat = [flatten_result(job.result) for job in rows] if results else []
        writer.writerows(zip(*(makers[column](rows, flat) for column in columns), strict=True))


SEARCH_COLUMNS = ("arrived", "best_so_far")


def _history_cells(report: Report) -> dict[str, ColumnOf]:
    """A search's history in its rows: the order each result arrived and the best value then."""
    assert report.search is not None
    arrived = {entry.trial: (position, entry.best) for position, entry in enumerate(report.search.history, 1)}

    def history_cells(at: int) -> ColumnOf:
        return lambda jobs, _: [cell(arrived.get(job.index, (None, None))[at]) for job in jobs]

    return {column: history_cells(at) for at, column in enumerate(SEARCH_COLUMNS)}


def _summary_line(report: Report) -> str:
    counts = ", ".join(f"{count} {state}" for state, count in sorted(report.summary.items()))
    return f"{len(report.jobs)} points: {counts}" if report.jobs else "no points"


def short_table(report: Report) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Name, state, parameters and results (what fits in a pull-request comment), flat rows."""
    columns, rows = table(report)
    middle = [c for c in columns if c not in FIXED_COLUMNS and c not in TRAILING_COLUMNS and c != OUTPUTS_COLUMN]
    outputs = [OUTPUTS_COLUMN] if OUTPUTS_COLUMN in columns else []
    return ["name", "state", *middle, "duration_s", *COST_COLUMNS, *outputs], rows


def short_text(value: Any) -> str:
    """A value for people: floats to 6 significant digits, everything else as in CSV."""
    return f"{value:.6g}" if isinstance(value, float) else cell(value)


def _md_cell(value: Any, column: str = "") -> str:
    """A Markdown table cell: memory in KiB/MiB/GiB, the rest as :func:`short_text` says."""
    text = human_size(value) if column == "peak_memory_bytes" and isinstance(value, int) else short_text(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _md_text(text: str) -> str:
    """Text inside a Markdown link: its syntax characters escaped, on one line."""
    escaped = "".join("\\" + ch if ch in "\\[]|*_`<>" else ch for ch in text)
    return " ".join(escaped.split())


def _md_outputs(outputs: list[dict[str, Any]] | None) -> str:
    links = []
    for data in outputs or ():
        target = (data.get("download_url") or data["url"]).replace(" ", "%20").replace(")", "%29").replace("|", "%7C")
        links.append(f"[{_md_text(output_label(data))}]({target})")
    return "<br>".join(links)


def write_markdown(report: Report, out: IO[str]) -> None:
    out.write(render_markdown(report))


def write_html(report: Report, out: IO[str]) -> None:
    """The self-contained page (a file in report.dir links shared assets instead: ``linked_html``)."""
    out.write(render_html(report))


def render_markdown(report: Report) -> str:
    """The Markdown report: short, so made whole (its table shows the first ``MARKDOWN_ROWS`` rows)."""
    columns, rows = short_table(report)
    lines = [
        f"## batchrun report: {report.batch}",
        "",
        f"Run `{report.run}` of `{report.step.function}@{report.step.version}` — {_summary_line(report)}.",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    for row in itertools.islice(rows, MARKDOWN_ROWS):
        lines.append(
            "| "
            + " | ".join(
                _md_outputs(row.get(column)) if column == OUTPUTS_COLUMN else _md_cell(row.get(column), column)
                for column in columns
            )
            + " |"
        )
    if len(report.jobs) > MARKDOWN_ROWS:
        lines += ["", f"… and {len(report.jobs) - MARKDOWN_ROWS} more rows in `{report_stem(report)}.csv`."]
    lines += _md_search(report)
    if report.failed:
        lines += ["", f"### Failed ({len(report.failed)})", ""]
        for job in report.failed[:MARKDOWN_ROWS]:
            lines.append(f"- `{job.name}` ({job.state}): {_md_cell(excerpt(job.error))}")
            tail = log_excerpt(job)
            if tail:
                lines += ["  ```text", *(f"  {line.replace('`', chr(39))}" for line in tail), "  ```"]
    return "\n".join(lines) + "\n"


def _md_search(report: Report) -> list[str]:
    if report.search is None:
        return []
    lines = ["", f"### {search_headline(report)}", "", "Optimisation history, in the order results arrived:", "",
             "| " + " | ".join(HISTORY_COLUMNS) + " |", "|" + "---|" * len(HISTORY_COLUMNS)]
    rows = history_rows(report, short_text)
    lines += ["| " + " | ".join(_md_cell(value) for value in row) + " |" for row in rows[:MARKDOWN_ROWS]]
    if len(rows) > MARKDOWN_ROWS:
        lines += ["", f"… and {len(rows) - MARKDOWN_ROWS} more in `{report_stem(report)}.json`."]
    return lines


WRITERS: dict[str, Callable[[Report, IO[str]], None]] = {
    "json": write_json,
    "csv": write_csv,
    "md": write_markdown,
    "html": write_html,
}
"""Each format written to a stream: a file, stdout."""


def rendered(write: Callable[[Report, IO[str]], None]) -> Callable[[Report], str]:
    """A writer as a function that returns the text."""

    def render(report: Report) -> str:
        buffer = io.StringIO()
        write(report, buffer)
        return buffer.getvalue()

    return render


render_json, render_csv = rendered(write_json), rendered(write_csv)
RENDERERS: dict[str, Callable[[Report], str]] = {form: rendered(write) for form, write in WRITERS.items()}


def report_stem(report: Report) -> str:
    """The file name stem: the batch name, made safe for any file system."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in report.batch) or "batch"


def report_directory(manifest: Manifest) -> Path:
    """``report.dir`` against the manifest's folder (a no-op when it is already absolute)."""
    return Path(manifest.base_dir) / manifest.report.dir


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


SECOND_PROCESS_ROWS = 20_000
"""From this many rows on, the CSV file is written by a second process while this one writes
the others (see :mod:`.parallel`); below, a fork would cost more than it saves."""


def write_report(report: Report, directory: Path, formats: Sequence[str] = ("json", "csv", "md")) -> list[Path]:
    """Write ``<batch>.<format>`` for each format into ``directory``; return the paths."""
    paths = {form: directory / f"{report_stem(report)}.{form}" for form in formats}
    aside = "csv" if "csv" in paths and len(paths) > 1 and len(report.jobs) >= SECOND_PROCESS_ROWS else None
    with meanwhile(lambda: _write_file(report, paths["csv"], "csv")) if aside else nullcontext():
        for form, path in paths.items():
            if form != aside:
                _write_file(report, path, form)
    return list(paths.values())


def _write_file(report: Report, path: Path, form: str) -> None:
    if form == "html":
        write_assets(path.parent)
        write_atomic(path, linked_html(report))
    else:
        with atomic_file(path) as out:
            WRITERS[form](report, out)
