"""Keep API keys given on the command line out of process listings.

``--api-key KEY`` in argv is readable by every user of the machine (``ps``,
``/proc/<pid>/cmdline``) for as long as the process runs. batchrun rewrites its process
title at start-up with every such value masked, so only the first moments of start-up
(Python importing batchrun) expose it. The environment variables (``PINEXQ_API_KEY``,
``BATCHRUN_SERVE_API_KEY``) never show up in listings and are the better way to pass a key.
"""

from __future__ import annotations

from collections.abc import Sequence

import setproctitle

SECRET_OPTIONS = ("--api-key",)
MASK = "***"


def secret_values(argv: Sequence[str]) -> list[str]:
    """The values given to secret options in ``argv``, as ``--api-key KEY`` or ``--api-key=KEY``."""
    values: list[str] = []
    for index, argument in enumerate(argv):
        name, equals, value = argument.partition("=")
        if name not in SECRET_OPTIONS:
            continue
        if equals:
            values.append(value)
        elif index + 1 < len(argv):
            values.append(argv[index + 1])
    return [value for value in values if value]


def hide_secrets(argv: Sequence[str]) -> None:
    """Mask the values of secret options in this process's title (``ps``, /proc/<pid>/cmdline).

    The short process name (``comm``, what ``top`` and ``pgrep`` match) is kept as it was.
    """
    secrets = secret_values(argv)
    if not secrets:
        return
    name = setproctitle.getthreadtitle()  # read first: setproctitle's set-up renames the process
    title = masked = setproctitle.getproctitle()
    for secret in sorted(secrets, key=len, reverse=True):
        masked = masked.replace(secret, MASK)
    if masked != title:
        setproctitle.setproctitle(masked)
    setproctitle.setthreadtitle(name)
