"""Steps that print, log, flood and allocate: for the jobs' Logs and Metrics."""

import logging
import os
import sys
import time

log = logging.getLogger("monitoring_steps")


def talk(fail: bool = False) -> int:
    """Print, write to stderr and log at several levels, in a known order; fail at the end if asked."""
    print("first to stdout")
    print("then to stderr", file=sys.stderr)
    log.debug("debug is below the capture level")
    log.info("an info record")
    log.warning("a warning record")
    os.write(1, b"written to fd 1 below Python\n")
    log.error("an error record")
    print("last to stdout")
    if fail:
        raise RuntimeError("talked, then failed")
    return 4


def flood(megabytes: int) -> int:
    """Print ``megabytes`` MiB of numbered lines."""
    line = "y" * 1015
    chunk = "".join(f"{n:07d} {line}\n" for n in range(1024))  # 1 MiB
    for _ in range(megabytes):
        sys.stdout.write(chunk)
    print("the very last line")
    return megabytes


def allocate(megabytes: int, hold_s: float) -> int:
    """Hold ``megabytes`` MiB of touched memory for ``hold_s`` seconds, spending CPU meanwhile."""
    block = bytearray(megabytes * 1024 * 1024)
    for at in range(0, len(block), 4096):
        block[at] = 1
    deadline = time.monotonic() + hold_s
    spins = 0
    while time.monotonic() < deadline:
        spins += 1
    return len(block) // (1024 * 1024)


def long_lines(chars: int) -> int:
    """Print one line and log one record of ``chars`` characters each."""
    print("p" * chars)
    log.warning("r" * chars)
    return chars
