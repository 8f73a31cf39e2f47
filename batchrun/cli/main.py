"""The ``batchrun`` command line: parse, call the engine, render, exit code.

Each command lives in its own module under ``batchrun.cli.commands``; this module only
assembles the group and maps batchrun's errors to exit codes.
"""

from __future__ import annotations

import sys

import click

from batchrun import __version__
from batchrun.cli.commands.apply import apply_command
from batchrun.cli.commands.destroy import destroy_command
from batchrun.cli.commands.diff import diff_command
from batchrun.cli.commands.events import events_command
from batchrun.cli.commands.expand import expand_command
from batchrun.cli.commands.fetch import fetch_command
from batchrun.cli.commands.logs import logs_command
from batchrun.cli.commands.plan import plan_command
from batchrun.cli.commands.report import report_command
from batchrun.cli.commands.schema import schema_command
from batchrun.cli.commands.serve import serve_command
from batchrun.cli.commands.status import status_command
from batchrun.cli.commands.ui import ui_command
from batchrun.cli.commands.validate import validate_command
from batchrun.errors import BatchrunError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="batchrun")
def cli() -> None:
    """Declarative batch runs of PineXQ jobs, driven by YAML manifests."""


cli.add_command(validate_command)
cli.add_command(expand_command)
cli.add_command(schema_command)
cli.add_command(plan_command)
cli.add_command(status_command)
cli.add_command(logs_command)
cli.add_command(report_command)
cli.add_command(diff_command)
cli.add_command(fetch_command)
cli.add_command(destroy_command)
cli.add_command(apply_command)
cli.add_command(serve_command)
cli.add_command(events_command)
cli.add_command(ui_command)


def main() -> None:
    """Console entry point: run the group, turning batchrun errors into exit codes."""
    try:
        code = cli.main(standalone_mode=False)
    except BatchrunError as error:
        click.echo(f"batchrun: {error}", err=True)
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        click.echo("batchrun: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(2 if isinstance(error, click.UsageError) else error.exit_code)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    # Without standalone mode click returns ``ctx.exit(code)`` codes instead of raising.
    sys.exit(code if isinstance(code, int) else 0)
