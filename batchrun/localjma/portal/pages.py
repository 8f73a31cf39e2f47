"""The portal's pages (GET): jobs, one job, batches, steps, one step, WorkData, and the live stream."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from batchrun.identity import TAG_BATCH, TAG_RUN
from batchrun.localjma.domain.errors import Invalid, NotFound
from batchrun.localjma.domain.lifecycle import available_actions, blocker
from batchrun.localjma.domain.queries import Page, Search, StepFilter
from batchrun.localjma.domain.slot_declarations import input_slots, output_slots
from batchrun.localjma.domain.workdata import available_workdata_actions, content_path, workdata_blocker
from batchrun.localjma.http.context import Context
from batchrun.localjma.portal import forms
from batchrun.localjma.portal.rendering import page
from batchrun.localjma.store.filters import JobFilter, Order, WorkDataFilter
from batchrun.localjma.store.rows import JobRow, StepRow, WorkDataRow
from batchrun.states import JobState

PAGE_SIZE = 50
MAX_PAGE = 1_000_000
MAX_LISTED = 200  # sub-jobs on a job page, WorkData offered in a slot picker, events shown
#: The job actions a person can take in the portal, in the order the buttons show.
JOB_BUTTONS = {
    "StartProcessing": "Start job",
    "AllowOutputDataDeletion": "Allow output deletion",
    "DisallowOutputDataDeletion": "Disallow output deletion",
    "Hide": "Hide",
    "UnHide": "Unhide",
    "Delete": "Delete",
}
#: Refused actions whose reason a person needs (what is missing, which lineage rule holds), and
#: the states in which it is news: a finished job obviously cannot be started again.
EXPLAINED = {"StartProcessing": {JobState.CREATED}, "Delete": set(JobState)}
JOB_SORTS = {
    "newest": None,
    "oldest": Order("created_at"),
    "name": Order("name"),
    "name-desc": Order("name", descending=True),
    "completed": Order("completed_at", descending=True),
}
WORKDATA_KINDS = ("ClientUpload", "ProcessingArtefact")


def ctx_of(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


def _page_number(request: Request) -> int:
    text = request.query_params.get("page", "1")
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise Invalid(f"page must be a number from 1 to {MAX_PAGE:,}, got {text[:20]!r}")
    return int(text)


@dataclass(frozen=True)
class Paging:
    """Where a page is in a list, and the links to its neighbours (filters kept)."""

    number: int
    total: int
    query: dict[str, str]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    def link(self, number: int) -> str:
        return "?" + urlencode({**self.query, "page": str(number)})


def _filters(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    return {name: request.query_params[name] for name in names if request.query_params.get(name)}


async def home(request: Request) -> Response:
    return RedirectResponse("/jobs", 303)


async def jobs_page(request: Request) -> Response:
    ctx = ctx_of(request)
    chosen = _filters(request, ("state", "tag", "batch", "sort"))
    state = chosen.get("state")
    if state is not None and state not in set(JobState):
        raise Invalid(f"state {state!r} is not a job state; choose one of {', '.join(JobState)}")
    sort = chosen.get("sort", "newest")
    if sort not in JOB_SORTS:
        raise Invalid(f"sort {sort!r} is not one of {', '.join(JOB_SORTS)}")
    tags = tuple(tag for tag in (chosen.get("tag"), chosen.get("batch") and f"{TAG_BATCH}={chosen['batch']}") if tag)
    number = _page_number(request)
    found = ctx.queries.jobs(Search(JobFilter(state=JobState(state) if state else None, tags_all=tags),
                                    JOB_SORTS[sort], (number - 1) * PAGE_SIZE, PAGE_SIZE))
    return page(request, "jobs.html", nav="jobs", jobs=found.items, steps=_steps_of(ctx, found.items),
                paging=Paging(number, found.total, chosen), chosen=chosen, states=list(JobState),
                sorts=list(JOB_SORTS))


def _steps_of(ctx: Context, jobs: list[JobRow]) -> dict[str, StepRow]:
    return {job.id: step for job in jobs if (step := ctx.registry.get(job.step_id)) is not None}


async def job_page(request: Request) -> Response:
    ctx = ctx_of(request)
    return page(request, "job.html", nav="jobs", **job_view(ctx, ctx.jobs.get(request.path_params["job_id"])))


def job_view(ctx: Context, job: JobRow) -> dict[str, Any]:
    """Everything the job page shows about ``job``."""
    step = ctx.registry.get(job.step_id)
    contents = ctx.jobs.slot_contents(job, step)
    try:
        parent = None if job.parent_id is None else ctx.jobs.get(job.parent_id)
    except NotFound:
        parent = None
    children = ctx.queries.jobs(Search(JobFilter(parent_id=job.id), size=MAX_LISTED)).items if job.children else []
    available = set(available_actions(job))
    return {
        "job": job, "step": step, "parent": parent, "children": children,
        "inputs": [(slot, contents.inputs.get(i, [])) for i, slot in enumerate(input_slots(step))],
        "outputs": [(slot, contents.outputs.get(i, [])) for i, slot in enumerate(output_slots(step))],
        "buttons": [(action, label) for action, label in JOB_BUTTONS.items() if action in available],
        "refusals": [(JOB_BUTTONS[action], reason) for action, states in EXPLAINED.items()
                     if job.state in states and action not in available and (reason := blocker(job, action))],
        "events": [event for _, event in ctx.queries.event_log(job.id, 0, MAX_LISTED)],
    }


@dataclass
class BatchSummary:
    """One batch's jobs counted by state, and by state within each run label."""

    name: str
    states: Counter[str] = field(default_factory=Counter)
    runs: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.states.values())


async def batches_page(request: Request) -> Response:
    summaries: dict[str, BatchSummary] = {}
    batch_prefix, run_prefix = f"{TAG_BATCH}=", f"{TAG_RUN}="
    for batch_tag, run_tag, state, count in ctx_of(request).queries.job_counts_by_tag(batch_prefix, run_prefix):
        name = batch_tag.removeprefix(batch_prefix)
        summary = summaries.setdefault(name, BatchSummary(name))
        summary.states[state] += count
        run = "" if run_tag is None else run_tag.removeprefix(run_prefix)
        summary.runs.setdefault(run, Counter())[state] += count
    return page(request, "batches.html", nav="batches", batches=list(summaries.values()), states=list(JobState))


async def steps_page(request: Request) -> Response:
    ctx = ctx_of(request)
    found: Page[StepRow] = ctx.queries.steps(Search(StepFilter(), size=10_000))
    return page(request, "steps.html", nav="steps", steps=found.items, implemented=ctx.registry.is_implemented)


async def step_page(request: Request) -> Response:
    ctx = ctx_of(request)
    return page(request, "step.html", nav="steps", **step_view(ctx, ctx.registry.step(request.path_params["step_id"])))


def step_view(ctx: Context, step: StepRow, answers: Any = None, errors: dict[str, str] | None = None,
              problem: str | None = None, chosen: dict[int, list[str]] | None = None) -> dict[str, Any]:
    """The step page and its Start-a-job form, filled with ``answers`` and ``errors`` after a refusal."""
    offered = ctx.queries.workdata(Search(WorkDataFilter(hidden=False), size=MAX_LISTED)).items
    return {
        "step": step, "fields": forms.fields(step.manifest.get("parameters")), "answers": answers,
        "errors": errors or {}, "problem": problem, "chosen": chosen or {}, "offered": offered,
        "inputs": input_slots(step), "outputs": output_slots(step), "implemented": ctx.registry.is_implemented(step),
    }


async def workdata_page(request: Request) -> Response:
    ctx = ctx_of(request)
    chosen = _filters(request, ("name", "tag", "kind"))
    number = _page_number(request)
    where = WorkDataFilter(name_contains=chosen.get("name"), kind=chosen.get("kind"),
                           tags_all=(chosen["tag"],) if "tag" in chosen else ())
    found = ctx.queries.workdata(Search(where, None, (number - 1) * PAGE_SIZE, PAGE_SIZE))
    return page(request, "workdata.html", nav="workdata", items=found.items, chosen=chosen, kinds=WORKDATA_KINDS,
                paging=Paging(number, found.total, chosen), deletable=_deletable(found.items))


def _deletable(items: list[WorkDataRow]) -> dict[str, str | None]:
    """Per WorkData: None when it can be deleted, else why not."""
    return {data.id: None if "Delete" in available_workdata_actions(data) else workdata_blocker(data, "Delete")
            for data in items}


async def live(request: Request) -> Response:
    """Job events as SSE, each naming the job's id; pages refresh what shows that job."""
    return StreamingResponse(ctx_of(request).broker.stream(lambda job_id: job_id), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def download(request: Request) -> Response:
    """A WorkData's bytes, always as an attachment: an uploaded HTML file never renders on the portal's origin."""
    ctx = ctx_of(request)
    data = ctx.workdata.get(request.path_params["workdata_id"])
    path = content_path(ctx.workdata.data_dir, data.id)
    if not path.is_file():
        raise NotFound(f"the content of WorkData {data.id}")
    return FileResponse(path, media_type=data.media_type, filename=data.name, content_disposition_type="attachment")
