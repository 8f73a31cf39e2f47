"""``batchrun plan``: what apply would do, per point, with a reason — and nothing sent."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from batchrun.cli.connection import connected, connection_options
from batchrun.cli.console import stdout_console
from batchrun.cli.options import manifest_options, run_option
from batchrun.cli.panels import PanelCommand
from batchrun.cli.results import SCREENFUL
from batchrun.collector import paused
from batchrun.manifest import Manifest
from batchrun.plan import Action, Plan, PlanEntry, build_plan, flat_parameters
from batchrun.search.outlook import search_outlook
from batchrun.selectors import assignments

FORMAT_VERSION = 1
SYMBOLS = {
    Action.CREATE: ("+", "green"),
    Action.UNCHANGED: ("=", "dim"),
    Action.IN_PROGRESS: ("~", "cyan"),
    Action.START: (">", "green"),
    Action.RERUN: ("↻", "yellow"),
    Action.FAILED: ("✗", "red"),
    Action.ORPHANED: ("-", "magenta"),
}


def summary_line(plan: Plan) -> str:
    """``Plan: 2 create, 5 unchanged, 1 orphaned`` (categories with entries only)."""
    counts = plan.counts()
    parts = [f"{count} {action}" for action, count in counts.items() if count]
    return "Plan: " + (", ".join(parts) if parts else "nothing to do (no points)")


def render(plan: Plan, console: Console, *, explain: bool, full: bool) -> None:
    """Summary first, then the entries (changes only unless --explain), a screenful unless --full;
    the table shows the parameters that vary across the batch, --explain every parameter."""
    console.print(
        f"Plan for batch [bold]{plan.batch}[/] (run {plan.run}), step "
        f"{plan.step.function_name}@{plan.step.version}: {len(plan.entries)} entries",
        highlight=False,
    )
    console.print(summary_line(plan), highlight=False)
    shown = [entry for entry in plan.entries if explain or entry.action is not Action.UNCHANGED]
    if shown:
        limit = len(shown) if full else SCREENFUL
        if explain:
            _explain(shown[:limit], console)
        else:
            console.print(_table(shown[:limit], plan.varying_parameters()))
        if len(shown) > limit:
            console.print(f"[dim]… {len(shown) - limit} more entries (use --full)[/]")
    changes = plan.changes()
    if changes:
        console.print(f"{len(changes)} changes pending: batchrun apply sends them.", highlight=False)
    else:
        console.print("No changes: every point is done, running or reported as failed.")


def _table(entries: list[PlanEntry], varying: list[str]) -> Table:
    """One row an entry, with the parameters that vary across the batch (``lr=0.1 depth=3``), if any."""
    columns = ["", "action", "name", "parameters", "key", "reason"]
    if not varying:
        columns.remove("parameters")
    grid = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for column in columns:
        grid.add_column(column, overflow="fold")
    for entry in entries:
        symbol, style = SYMBOLS[entry.action]
        parameters = flat_parameters(entry.spec.parameters) if entry.spec is not None else {}
        cells = {
            "": symbol,
            "action": entry.action.value,
            "name": entry.name,
            "parameters": assignments(parameters, varying),
            "key": entry.key or "",
            "reason": entry.reason,
        }
        grid.add_row(*(cells[column] for column in columns), style=style)
    return grid


def _explain(entries: list[PlanEntry], console: Console) -> None:
    """One block per entry: the decision, its reason, the point's parameters and its job."""
    for entry in entries:
        symbol, style = SYMBOLS[entry.action]
        console.print(f"{symbol} {entry.action.value} {entry.name} (key {entry.key})",
                      style=style, highlight=False, markup=False)
        console.print(f"    reason: {entry.reason}", highlight=False, markup=False)
        if entry.spec is not None:
            console.print(f"    parameters: {json.dumps(entry.spec.parameters, sort_keys=True)}",
                          highlight=False, markup=False)
            for slot, labels in entry.spec.input_labels().items():
                console.print(f"    input {slot}: {'; '.join(labels) or 'none'}", highlight=False, markup=False)
        if entry.job is not None:
            job = entry.job
            console.print(f"    job: {job.url} (attempt {job.attempt}, {job.state})",
                          highlight=False, markup=False, soft_wrap=True)


def plan_document(plan: Plan) -> dict[str, Any]:
    """The machine form of a plan (``plan -o json``); ``format_version`` guards its shape."""
    return {
        "format_version": FORMAT_VERSION,
        "batch": plan.batch,
        "run": plan.run,
        "step": {
            "function": plan.step.function_name,
            "version": plan.step.version,
            "url": plan.step.url,
        },
        "summary": plan.counts(),
        "changes": len(plan.changes()),
        "entries": [_entry_document(entry) for entry in plan.entries],
    }


def _entry_document(entry: PlanEntry) -> dict[str, Any]:
    job = entry.job
    return {
        "action": entry.action.value,
        "reason": entry.reason,
        "name": entry.name,
        "key": entry.key,
        "index": entry.spec.index if entry.spec is not None else None,
        "parameters": entry.spec.parameters if entry.spec is not None else None,
        "job": None
        if job is None
        else {"url": job.url, "state": job.state, "attempt": job.attempt, "spec": job.spec},
    }


@click.command("plan", cls=PanelCommand)
@manifest_options
@connection_options
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="[Output] Table for people, JSON (with format_version) for tools.")
@click.option("--detailed-exitcode", is_flag=True,
              help="[Output] Exit 0 with no changes and 2 with changes pending (like Terraform).")
@click.option("--explain", is_flag=True,
              help="[Output] Show every point, its job and all its parameters (the table shows those that vary).")
@click.option("--full", is_flag=True, help="[Output] Do not cut the entry list after a screenful.")
@run_option("The run label whose jobs to compare with (batchrun.run tag).")
@click.option("--rerun-failed", is_flag=True, help="Plan failed points as reruns, as apply --rerun-failed would.")
@click.option("--prune", is_flag=True, help="Count orphaned jobs as changes, as apply --prune would.")
def plan_command(
    manifest: Manifest,
    endpoint: str | None,
    api_key: str | None,
    output: str,
    detailed_exitcode: bool,
    explain: bool,
    full: bool,
    run_label: str,
    rerun_failed: bool,
    prune: bool,
) -> None:
    """Compare the manifest with the batch's jobs on the platform; change nothing.

    Every point is classified: create, unchanged, in-progress, start, rerun, failed,
    orphaned, each with a reason. Parameters are checked against the step's schema first.
    Exit codes: 0 ok (with --detailed-exitcode: no changes), 2 changes pending (with
    --detailed-exitcode) or a manifest error, 1 the platform could not be reached.
    """
    if manifest.search is not None:
        _plan_search(manifest, endpoint, api_key, run_label, output=output, detailed_exitcode=detailed_exitcode)
        return
    with paused():  # what is read and built is kept to the end: collections would only walk it
        with connected(manifest, endpoint, api_key, run_jobs=False) as platform:
            plan = build_plan(platform, manifest, run=run_label, rerun_failed=rerun_failed, prune=prune)
        if output == "json":
            click.echo(json.dumps(plan_document(plan), indent=2))
        else:
            render(plan, stdout_console(), explain=explain, full=full)
    if detailed_exitcode and plan.changes():
        click.get_current_context().exit(2)


def _plan_search(manifest: Manifest, endpoint: str | None, api_key: str | None, run: str, *, output: str,
                 detailed_exitcode: bool) -> None:
    """A search's plan: counts and the best so far (its next trials depend on results not in yet)."""
    with connected(manifest, endpoint, api_key, run_jobs=False) as platform:
        outlook = search_outlook(platform, manifest, run=run)
    if output == "json":
        counts = {field.name: getattr(outlook, field.name) for field in dataclasses.fields(outlook)}
        document = {"format_version": FORMAT_VERSION, **counts, "changes": outlook.changes,
                    "summary": outlook.summary.model_dump(mode="json", exclude={"history"})}
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(outlook.line())
    if detailed_exitcode and outlook.changes:
        click.get_current_context().exit(2)
