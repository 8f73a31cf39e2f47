"""Help panels: options whose help starts with ``[Panel]`` are listed under that heading.

The ``pinexq`` CLI groups options into Connection, Output, Filters and Parameters panels;
batchrun keeps the same grouping with plain click by tagging each option's help text.
"""

from __future__ import annotations

import re

import click

_PANEL = re.compile(r"^\[(?P<panel>[A-Za-z ]+)\]\s*")


class PanelCommand(click.Command):
    """A click command whose ``--help`` lists tagged options in their own sections."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        panels: dict[str, list[tuple[str, str]]] = {"Options": []}
        for param in self.get_params(ctx):
            if isinstance(param, click.Argument):
                continue  # arguments are in the usage line
            record = param.get_help_record(ctx)
            if record is None:
                continue
            name, text = record
            match = _PANEL.match(text)
            panel = match["panel"] if match else "Options"
            panels.setdefault(panel, []).append((name, text[match.end():] if match else text))
        for panel, records in panels.items():
            if records:
                with formatter.section(panel):
                    formatter.write_dl(records)
