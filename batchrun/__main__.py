"""The ``batchrun`` console script (also ``python -m batchrun``): what a process does
before and after importing the commands.

Importing them takes a while. Until it is done ``ps`` would show an ``--api-key``,
so it is masked first; and they run without garbage collections (see
:mod:`batchrun.collector`).
"""

from __future__ import annotations

import sys

from batchrun.collector import importing, skip_collection_at_exit
from batchrun.proctitle import hide_secrets


def main() -> None:
    """Mask secrets, import the commands, run the command line."""
    hide_secrets(sys.argv)
    with importing():
        from batchrun.cli.main import main as run_command_line
    skip_collection_at_exit()
    run_command_line()


if __name__ == "__main__":
    main()
