"""``batchrun expand MANIFEST``: the resolved job specs, without contacting any server.

Every format is written while the manifest expands, one job at a time, so a batch of a
million points costs the memory of its checks, not of its jobs. Should a check across
jobs fail late (two jobs with one name), what was written is void: the command ends
with exit 2 and the problems on stderr, as when it fails at once.
"""

from __future__ import annotations

import csv
import itertools
import json
import sys
from collections.abc import Callable, Iterable
from typing import IO, Any

import click

from batchrun.cli.aligned import write_aligned
from batchrun.cli.options import manifest_options
from batchrun.identity import UNRESOLVED_VERSION, JobSpec
from batchrun.manifest import Manifest, expand, parameter_names, stream_specs
from batchrun.selectors import assignments, value_text

FORMAT_VERSION = 1
_FIXED_COLUMNS = ("index", "name", "key", "spec", "version")
_ENTRY = json.JSONEncoder(ensure_ascii=False)
"""One encoder for every job's entry: json.dumps with an option makes a new one each call."""


def _json(manifest: Manifest, jobs: Iterable[JobSpec], out: IO[str]) -> int:
    """The document with ``count`` after ``jobs``, so it can be written as the jobs come."""
    step: dict[str, Any] = {"function": manifest.step.function, "version": manifest.step.version}
    if manifest.step.version is None:
        step["key_version"] = UNRESOLVED_VERSION
    head = {"format_version": FORMAT_VERSION, "batch": manifest.batch, "step": step, "revision": manifest.revision}
    text = json.dumps(head, indent=2, ensure_ascii=False)
    out.write(text[:-2] + ',\n  "jobs": [')
    count = 0
    for count, job in enumerate(jobs, 1):
        entry = {"index": job.index, "name": job.name, "key": job.key, "spec": job.spec, "version": job.version,
                 "parameters": job.parameters, "tags": list(job.tags),
                 **({"inputs": job.input_labels()} if job.inputs else {})}
        out.write(("\n    " if count == 1 else ",\n    ") + _ENTRY.encode(entry))
    out.write(f'{"" if count == 0 else chr(10) + "  "}],\n  "count": {count}\n}}\n')
    return count


def _csv(manifest: Manifest, jobs: Iterable[JobSpec], out: IO[str]) -> int:
    names = parameter_names(manifest)
    headers = [f"param.{name}" if name in (*_FIXED_COLUMNS, "tags") else name for name in names]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*_FIXED_COLUMNS, *headers, "tags"])
    count = 0
    for job in jobs:
        count += 1
        values = [value_text(job.parameters[name]) if name in job.parameters else "" for name in names]
        writer.writerow([job.index, job.name, job.key, job.spec, job.version or "", *values, ";".join(job.tags)])
    return count


def _table(manifest: Manifest, jobs: Iterable[JobSpec], out: IO[str]) -> int:
    """Plain aligned columns: fast for a hundred thousand rows, easy to grep."""
    swept = [name for name in parameter_names(manifest) if name not in manifest.parameters]
    key_header = "key" if manifest.step.version else "key*"
    rows = ([str(job.index), job.name, job.key, assignments(job.parameters, swept), " ".join(job.tags)] for job in jobs)
    return write_aligned(itertools.chain([["#", "name", key_header, "parameters", "tags"]], rows), out) - 1


_FORMATS: dict[str, Callable[[Manifest, Iterable[JobSpec], IO[str]], int]] = {
    "table": _table, "json": _json, "csv": _csv,
}


@click.command("expand")
@manifest_options
@click.option("-o", "--output", type=click.Choice(list(_FORMATS)), default="table", show_default=True,
              help="Table for people; JSON (with format_version) or CSV (one column per parameter) for tools.")
def expand_command(manifest: Manifest, output: str) -> None:
    """Print the job specs MANIFEST expands to: name, key, parameters, tags.

    Contacts no server. When step.version is left out, keys are computed with the version
    '*' and change once `batchrun plan` resolves the version on the platform.
    """
    if manifest.search is not None:
        expand(manifest)  # checks the search; its trials are proposed only as results arrive
        click.echo(f"{manifest.batch} is a {manifest.search.strategy} search of {manifest.search.budget:,} trials: "
                   "they are proposed as results arrive, so there are no jobs to list before it runs; "
                   "`batchrun plan` counts them and `batchrun report` lists them", err=True)
        return
    if output == "table" and manifest.parameters:
        click.echo(f"fixed parameters: {assignments(manifest.parameters, manifest.parameters)}", err=True)
    count = _FORMATS[output](manifest, stream_specs(manifest), sys.stdout)
    if manifest.step.version is None:
        click.echo(
            f"note: step.version is not set; keys use version {UNRESOLVED_VERSION!r} until "
            "`batchrun plan` resolves it on the platform",
            err=True,
        )
    click.echo(f"{count:,} jobs", err=True)
