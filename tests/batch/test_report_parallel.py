"""A large report's CSV file is written by a forked child while the parent writes the others:
the same bytes, its failures raised in the parent, and no child left running.

A fork is made only from a process that runs no other thread, and the test process runs
some (the servers of other tests' fixtures), so each case runs in a fresh interpreter and
counts the forks it made.
"""

from __future__ import annotations

import errno
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from batchrun.errors import BatchrunError
from batchrun.manifest import load_manifest
from batchrun.report import formats
from batchrun.report.formats import report_stem, save_report, write_report
from batchrun.report.parallel import meanwhile
from tests.batch.test_report_bytes import CASES, PINNED

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="a second process is forked on Linux only")


@pytest.fixture(scope="module")
def fresh() -> Iterator[Callable[..., Any]]:
    """Run a function of this module in a fresh interpreter (one thread); its result, or its exception."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield lambda function, *args: pool.submit(function, *args).result(timeout=120)


def _counting_forks() -> list[int]:
    forks: list[int] = []
    os.register_at_fork(after_in_parent=lambda: forks.append(1))
    return forks


# -- what runs in the fresh interpreter --------------------------------------------------


def write_files(case: str, folder: Path) -> tuple[int, list[Path]]:
    forks = _counting_forks()
    formats.SECOND_PROCESS_ROWS = 0
    paths = write_report(CASES[case](), folder, ("json", "csv", "md"))
    return len(forks), paths


def run_meanwhile(task: Callable[[], None], block: Callable[[], None] = lambda: None) -> tuple[int, int]:
    """The forks made and this process's id, around a block that runs while ``task`` does."""
    forks = _counting_forks()
    try:
        with meanwhile(task):
            block()
    finally:
        forks_made = len(forks)
    return forks_made, os.getpid()


def send_pid(fifo: Path) -> None:
    """Hand this process's id to whoever reads the FIFO (the open waits for a reader)."""
    with fifo.open("w") as pipe:
        pipe.write(str(os.getpid()))


def receive_into(fifo: Path, kept: Path) -> None:
    """Read what the FIFO brings (the open waits for a writer) and keep it in ``kept``."""
    with fifo.open() as pipe:
        kept.write_text(pipe.read())


def disk_full() -> None:
    raise OSError(errno.ENOSPC, "No space left on device", "/reports/batch.csv")


def broken() -> None:
    raise KeyError("no such column")


def write_when_told(fifo: Path, path: Path) -> None:
    """Write ``path`` only once the FIFO says so: after the block has started failing."""
    with fifo.open() as pipe:
        pipe.read()
    path.write_text("written")


def fail_the_block(fifo: Path) -> None:
    with fifo.open("w") as pipe:  # the child may write its file now, while this block raises
        pipe.write("go")
    raise ValueError("the parent's own file")


def run_meanwhile_beside_a_thread(path: Path) -> tuple[int, list[str]]:
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait)
    helper.start()
    try:
        forks, pid = run_meanwhile(lambda: path.write_text(f"task in {os.getpid()}"), lambda: path.write_text("block"))
    finally:
        stop.set()
        helper.join()
    return forks, [path.read_text(), f"task in {pid}"]


def run_meanwhile_without_a_process_to_spare(path: Path) -> tuple[int, list[str]]:
    """As when the system refuses a new process (the process limit): fork raises EAGAIN."""

    def refuse() -> int:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    fork, os.fork = os.fork, refuse
    try:
        forks, pid = run_meanwhile(lambda: path.write_text(f"task in {os.getpid()}"), lambda: path.write_text("block"))
    finally:
        os.fork = fork  # the fresh interpreter runs the other cases too
    return forks, [path.read_text(), f"task in {pid}"]


def save_into_a_blocked_folder(manifest_path: Path) -> tuple[int, str, bool]:
    forks = _counting_forks()
    formats.SECOND_PROCESS_ROWS = 0
    manifest = load_manifest(manifest_path)
    report = CASES["report"]()
    folder = Path(manifest.base_dir) / "reports"
    (folder / f"{report_stem(report)}.csv").mkdir(parents=True)  # os.replace cannot put the file there
    try:
        save_report(report, manifest)
    except BatchrunError as error:
        return len(forks), str(error), (folder / f"{report_stem(report)}.json").exists()
    raise AssertionError("the report was saved")


# -- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_files_written_by_two_processes_are_the_pinned_bytes(
    case: str, tmp_path: Path, fresh: Callable[..., Any]
) -> None:
    forks, paths = fresh(write_files, case, tmp_path)

    assert forks == 1
    for path in paths:
        assert path.read_bytes() == (PINNED / f"{case}.{path.suffix[1:]}").read_bytes()
    assert sorted(tmp_path.iterdir()) == sorted(paths)  # and no temp file left


def test_the_task_runs_in_another_process_at_the_same_time(tmp_path: Path, fresh: Callable[..., Any]) -> None:
    fifo, received = tmp_path / "pids", tmp_path / "received"
    os.mkfifo(fifo)

    # The block waits for the task's pid while it runs: the task runs at the same time.
    forks, pid = fresh(run_meanwhile, partial(send_pid, fifo), partial(receive_into, fifo, received))

    assert forks == 1
    assert int(received.read_text()) != pid


def test_an_os_error_in_the_child_is_raised_as_it_was(fresh: Callable[..., Any]) -> None:
    with pytest.raises(OSError) as raised:
        fresh(run_meanwhile, disk_full)

    assert (raised.value.errno, raised.value.strerror, raised.value.filename) == (
        errno.ENOSPC, "No space left on device", "/reports/batch.csv")


def test_any_other_failure_in_the_child_comes_with_its_traceback(fresh: Callable[..., Any]) -> None:
    with pytest.raises(RuntimeError, match=r"(?s)Traceback.*in broken.*KeyError: 'no such column'"):
        fresh(run_meanwhile, broken)


def test_the_blocks_failure_wins_and_the_child_has_finished_first(tmp_path: Path, fresh: Callable[..., Any]) -> None:
    fifo, done = tmp_path / "go", tmp_path / "done"
    os.mkfifo(fifo)

    with pytest.raises(ValueError, match="the parent's own file"):
        fresh(run_meanwhile, partial(write_when_told, fifo, done), partial(fail_the_block, fifo))

    assert done.read_text() == "written"


def test_with_another_thread_running_the_task_runs_here_after_the_block(
    tmp_path: Path, fresh: Callable[..., Any]
) -> None:
    forks, (written, expected) = fresh(run_meanwhile_beside_a_thread, tmp_path / "order")

    assert forks == 0
    assert written == expected  # the task ran last, in the process itself


def test_without_a_process_to_spare_the_task_runs_here_after_the_block(
    tmp_path: Path, fresh: Callable[..., Any]
) -> None:
    forks, (written, expected) = fresh(run_meanwhile_without_a_process_to_spare, tmp_path / "order")

    assert forks == 0
    assert written == expected


def test_a_folder_the_child_cannot_write_is_named(write_manifest: Callable[..., Path], fresh: Callable[..., Any]) -> None:
    """The CSV's child fails on a folder in the file's way as the parent would: the usual message."""
    path = write_manifest(extra="report: {dir: reports, formats: [json, csv]}\n")

    forks, message, json_written = fresh(save_into_a_blocked_folder, path)

    assert forks == 1
    assert f"cannot write the report into {path.parent / 'reports'}: Is a directory" in message
    assert json_written
