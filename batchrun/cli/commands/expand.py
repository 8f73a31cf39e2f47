"""``batchrun expand MANIFEST``: the resolved job specs, without contacting any server."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from typing import Any

import click

from batchrun.cli.options import manifest_options
from batchrun.identity import UNRESOLVED_VERSION, JobSpec
from batchrun.manifest import Manifest, expand
from batchrun.selectors import assignments, value_text

FORMAT_VERSION = 1
_FIXED_COLUMNS = ("index", "name", "key", "spec", "version")


def _swept(manifest: Manifest, jobs: Sequence[JobSpec]) -> list[str]:
    """Parameter names in first-seen order, fixed parameters last."""
    names: dict[str, None] = {}
    for job in jobs:
        names.update(dict.fromkeys(job.parameters))
    return [name for name in names if name not in manifest.parameters] + list(manifest.parameters)


def _json(manifest: Manifest, jobs: Sequence[JobSpec]) -> str:
    step: dict[str, Any] = {"function": manifest.step.function, "version": manifest.step.version}
    if manifest.step.version is None:
        step["key_version"] = UNRESOLVED_VERSION
    document = {
        "format_version": FORMAT_VERSION,
        "batch": manifest.batch,
        "step": step,
        "revision": manifest.revision,
        "count": len(jobs),
        "jobs": [
            {"index": job.index, "name": job.name, "key": job.key, "spec": job.spec, "version": job.version,
             "parameters": job.parameters, "tags": list(job.tags),
             **({"inputs": job.input_labels()} if job.inputs else {})}
            for job in jobs
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _csv(manifest: Manifest, jobs: Sequence[JobSpec]) -> None:
    names = _swept(manifest, jobs)
    headers = [f"param.{name}" if name in (*_FIXED_COLUMNS, "tags") else name for name in names]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow([*_FIXED_COLUMNS, *headers, "tags"])
    for job in jobs:
        values = [value_text(job.parameters[name]) if name in job.parameters else "" for name in names]
        writer.writerow([job.index, job.name, job.key, job.spec, job.version or "", *values, ";".join(job.tags)])


def _table(manifest: Manifest, jobs: Sequence[JobSpec]) -> str:
    """Plain aligned columns: fast for a hundred thousand rows, easy to grep."""
    swept = [name for name in _swept(manifest, jobs) if name not in manifest.parameters]
    key_header = "key" if manifest.step.version else "key*"
    rows = [["#", "name", key_header, "parameters", "tags"]]
    for job in jobs:
        rows.append([str(job.index), job.name, job.key, assignments(job.parameters, swept), " ".join(job.tags)])
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)), row[-1]]).rstrip()
        for row in rows
    )


@click.command("expand")
@manifest_options
@click.option("-o", "--output", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="Table for people; JSON (with format_version) or CSV (one column per parameter) for tools.")
def expand_command(manifest: Manifest, output: str) -> None:
    """Print the job specs MANIFEST expands to: name, key, parameters, tags.

    Contacts no server. When step.version is left out, keys are computed with the version
    '*' and change once `batchrun plan` resolves the version on the platform.
    """
    jobs = expand(manifest)
    if output == "json":
        click.echo(_json(manifest, jobs))
    elif output == "csv":
        _csv(manifest, jobs)
    else:
        if manifest.parameters:
            click.echo(f"fixed parameters: {assignments(manifest.parameters, manifest.parameters)}", err=True)
        click.echo(_table(manifest, jobs))
    if manifest.step.version is None:
        click.echo(
            f"note: step.version is not set; keys use version {UNRESOLVED_VERSION!r} until "
            "`batchrun plan` resolves it on the platform",
            err=True,
        )
    click.echo(f"{len(jobs):,} jobs", err=True)
