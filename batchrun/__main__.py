"""The ``batchrun`` console script (also ``python -m batchrun``): what a process does
before and after importing the commands.

The imports take most of a second. Until they are done ``ps`` would show an ``--api-key``,
so it is masked first. They also build most of the objects a command ever holds
(pydantic schemas, the libraries' tables), and left alone the garbage collector walks
them over and over: ~35 ms of collections during the imports, every full collection of
the run, and one more at exit whose garbage the OS takes back anyway (~50 ms). So the
collector pauses while importing, what the imports built is set aside for good
(``gc.freeze``), and at exit everything is: commands close their own files and
connections, they do not leave that to the collector.
"""

from __future__ import annotations

import atexit
import gc
import sys

from batchrun.proctitle import hide_secrets


def main() -> None:
    """Mask secrets, import the commands without collections, run the command line."""
    hide_secrets(sys.argv)
    gc.disable()
    try:
        from batchrun.cli import main as run_command_line
    finally:
        gc.freeze()
        gc.enable()
    atexit.register(gc.freeze)
    run_command_line()


if __name__ == "__main__":
    main()
