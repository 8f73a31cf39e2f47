"""Pages from Jinja2 templates, autoescaped, with what every page needs (session, CSRF, nav)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from batchrun.localjma.portal.security import CSRF_FIELD, session_of
from batchrun.localjma.store.rows import JobRow, stored_time


def _moment(stored: str | None) -> datetime | None:
    return None if not stored else stored_time(stored)


def when(stored: str | None) -> str:
    """A stored time as people read it (UTC, to the second)."""
    moment = _moment(stored)
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def epoch(at: float) -> str:
    """An event-log time (epoch seconds) as people read it (UTC, to the millisecond)."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def duration(job: JobRow) -> str:
    """How long the job ran (so far, while it runs); empty before it started."""
    started = _moment(job.started_at)
    if started is None:
        return ""
    seconds = ((_moment(job.completed_at) or datetime.now(UTC)) - started).total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def pretty(text: str | None) -> str:
    """JSON text indented for reading; text that is not JSON as it is."""
    if text is None:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return f"{count} B"


templates = Environment(
    loader=PackageLoader("batchrun.localjma.portal", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters.update(when=when, epoch=epoch, duration=duration, pretty=pretty, size=size)


def page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """``template`` rendered for this request's session."""
    session = session_of(request)
    html = templates.get_template(template).render(
        request=request, csrf_field=CSRF_FIELD, csrf=session.csrf, signed_in=session.signed_in,
        key_required=request.app.state.sessions.key_required, **values,
    )
    return HTMLResponse(html, status)
