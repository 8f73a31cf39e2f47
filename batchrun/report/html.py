"""The HTML report: one page per batch with a header, plots, a table and the failures.

The page is static markup plus the report's data as JSON in a ``<script
type="application/json">`` block; the vendored scripts in ``assets/`` (ECharts and the
page's own ``report.js``) draw it, and put every piece of user data in as text. The data
block escapes ``<``, ``>`` and ``&``, so no name, parameter, result or error can end it.

A file report links its scripts from ``_assets/`` next to it (written once, rewritten
only when they changed); the page printed by ``-o html`` carries them inline so it opens
on its own. Both carry a Content-Security-Policy that allows these scripts and no request.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from batchrun.report.atomic import write_atomic
from batchrun.report.labels import log_excerpt, output_label
from batchrun.report.model import Report, ReportJob, flatten_result
from batchrun.report.plots import choose_plots
from batchrun.report.search_view import HISTORY_COLUMNS, history_rows, search_headline
from batchrun.states import FAILED

ASSETS_DIR = "_assets"
SCRIPTS = ("echarts.min.js", "report.js")
STYLESHEET = "report.css"
_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
                 0x2028: "\\u2028", 0x2029: "\\u2029"}


@cache
def asset(name: str) -> str:
    """A vendored file's text (``assets/`` in this package)."""
    return (resources.files("batchrun.report") / "assets" / name).read_text(encoding="utf-8")


def script_json(data: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``: no ``</script>``, no ``<!--``.

    NaN and infinities (a step may return them; Python's JSON writes them, a browser's
    JSON.parse refuses them) become the strings "NaN", "Infinity" and "-Infinity"."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if "NaN" in text or "Infinity" in text:
        text = json.dumps(json.loads(text, parse_constant=str), ensure_ascii=False, separators=(",", ":"))
    return text.translate(_JSON_ESCAPES)


# -- the data the page draws ------------------------------------------------------------


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _wall_time(jobs: list[ReportJob]) -> float | None:
    """From the first job's creation to the last one's completion, in seconds."""
    starts = [moment for job in jobs if (moment := job.created_at or job.started_at) is not None]
    ends = [job.completed_at for job in jobs if job.completed_at is not None]
    return (max(ends) - min(starts)).total_seconds() if starts and ends else None


def _point(job: ReportJob) -> dict[str, Any]:
    return {
        "name": job.name,
        "state": job.state,
        "params": job.parameters,
        "result": flatten_result(job.result) if job.result is not None else {},
        "duration": job.duration_s,
        "cpu_seconds": job.cpu_seconds,
        "peak_memory_mib": None if job.peak_memory_bytes is None else round(job.peak_memory_bytes / 2**20, 1),
        "log_tail": log_excerpt(job),
        "error": job.error,
        "url": job.url,
        "outputs": [{"label": output_label(asdict(data)), "href": data.download_url or data.url}
                    for data in job.outputs],
    }


def page_data(report: Report) -> dict[str, Any]:
    """Everything the page shows, as plain JSON values."""
    parameters = list(dict.fromkeys(name for job in report.jobs for name in job.parameters))
    fields = list(dict.fromkeys(name for job in report.jobs if job.result is not None
                                for name in flatten_result(job.result)))
    return {
        "header": {
            "batch": report.batch,
            "step": f"{report.step.function}@{report.step.version}",
            "run": report.run,
            "revision": report.revision,
            "generated_at": _time(report.generated_at),
            "wall_time_s": _wall_time(report.jobs),
            "points": len(report.jobs),
            "summary": sorted(report.summary.items(), key=lambda item: -item[1]),
        },
        "parameters": parameters,
        "fields": fields,
        "plots": [plot.to_json() for plot in choose_plots(report)],
        "failed_states": sorted(FAILED),
        "points": [_point(job) for job in report.jobs],
    }


# -- the page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Assets:
    """How the page gets its scripts and style: linked from a folder, or inline."""

    folder: str | None  # relative URL of the folder; None: inline

    def style(self) -> str:
        if self.folder is None:
            return f"<style>{asset(STYLESHEET)}</style>"
        return f'<link rel="stylesheet" href="{self.folder}/{STYLESHEET}">'

    def scripts(self) -> str:
        if self.folder is None:
            return "".join(f"<script>{asset(name)}</script>" for name in SCRIPTS)
        return "".join(f'<script src="{self.folder}/{name}"></script>' for name in SCRIPTS)

    def policy(self) -> str:
        """A Content-Security-Policy: these scripts and style only, no request of any kind."""
        if self.folder is None:
            scripts = " ".join(_hash_source(asset(name)) for name in SCRIPTS)
            style = _hash_source(asset(STYLESHEET))
        else:
            scripts = style = "'self'"
        return (f"default-src 'none'; script-src {scripts}; style-src {style}; "
                "img-src data:; base-uri 'none'; form-action 'none'")


def _hash_source(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"


def html_page(report: Report, assets: Assets) -> str:
    title = html.escape(f"batchrun report: {report.batch}")
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>\n"
        f'<meta http-equiv="Content-Security-Policy" content="{assets.policy()}">\n'
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>\n<title>{title}</title>\n"
        f"{assets.style()}\n</head>\n<body>\n"
        "<noscript>This report draws its plots and table with JavaScript: allow it for this file, or "
        "use the report's JSON, CSV or Markdown format.</noscript>\n"
        '<main id="report"></main>\n'
        f"{_search_section(report)}"
        f'<script type="application/json" id="report-data">{script_json(page_data(report))}</script>\n'
        f"{assets.scripts()}\n</body></html>\n"
    )


def _search_section(report: Report) -> str:
    """A search's best trial and optimisation history, as static text below the page."""
    if report.search is None:
        return ""
    head = "".join(f"<th>{column}</th>" for column in HISTORY_COLUMNS)
    body = "\n".join("<tr>" + "".join(f"<td>{html.escape(value)}</td>" for value in row) + "</tr>"
                     for row in history_rows(report, _history_text))
    return (f'<section id="search"><h2>{html.escape(search_headline(report))}</h2>\n'
            "<p>Optimisation history, in the order results arrived:</p>\n"
            f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table></section>\n")


def _history_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, datetime):
        return _time(value) or ""
    return str(value)


def render_html(report: Report) -> str:
    """The page with its scripts inline: opens on its own, wherever it is saved."""
    return html_page(report, Assets(folder=None))


def write_assets(directory: Path) -> None:
    """Put the page's scripts and style into ``directory/_assets``, rewriting only what changed."""
    folder = directory / ASSETS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for name in (*SCRIPTS, STYLESHEET):
        path = folder / name
        text = asset(name)
        if not path.is_file() or path.read_bytes() != text.encode("utf-8"):
            write_atomic(path, text)


def linked_html(report: Report) -> str:
    """The page that links its scripts from ``_assets/`` next to it (see :func:`write_assets`)."""
    return html_page(report, Assets(folder=ASSETS_DIR))
