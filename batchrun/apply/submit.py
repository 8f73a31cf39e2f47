"""Submit threads: one RapidSetupJob per point, never a blind retry of a create.

A create that may have reached the server (timeout, reset, 5xx) is resolved by looking
the point's key tag up: the job found is adopted, and only when none exists is the point
created again. Waiting before the look-up gives a slow server time to finish the create.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from batchrun.apply.board import Board, Task, Work
from batchrun.client import CreateUncertain, Platform, PlatformUnreachable, RemoteJob, StepInfo
from batchrun.client.folders import file_job
from batchrun.client.uploads import InputSlotSpec
from batchrun.errors import PlatformError
from batchrun.identity import ownership_tags
from batchrun.inputs import input_tags, slot_urls
from batchrun.states import NOT_STARTED

UNCERTAIN_ATTEMPTS = 4
UNCERTAIN_PAUSE = 0.5  # seconds before the first look-up, doubled each time


@dataclass(frozen=True)
class Submitter:
    """Creates (or starts) the job of a task on the platform."""

    platform: Platform
    step: StepInfo
    batch: str
    run: str
    input_slots: tuple[InputSlotSpec, ...] = ()
    files: Mapping[str, str] = field(default_factory=dict)  # sha256 → the uploaded WorkData's URL
    folders: Mapping[str, str] = field(default_factory=dict)  # folder path → the folder's URL

    def __call__(self, task: Task) -> str:
        if task.work is Work.START and task.url is not None:
            self._file_and_start(task, task.url)
            return task.url
        pause = UNCERTAIN_PAUSE
        for _ in range(UNCERTAIN_ATTEMPTS):
            try:
                return self._create(task)
            except CreateUncertain:
                time.sleep(pause)
                pause *= 2
                found = self._existing(task)
                if found is not None:
                    if found.state in NOT_STARTED:
                        self._file_and_start(task, found.url)
                    return found.url
        raise PlatformError(
            f"creating job {task.spec.name!r} failed {UNCERTAIN_ATTEMPTS} times without a "
            "clear answer from the platform, and no job with its key exists; run apply "
            "again once the platform answers reliably"
        )

    def _create(self, task: Task) -> str:
        spec = task.spec
        tags = [
            *spec.tags,
            *ownership_tags(self.batch, spec.key, spec.spec, self.run, task.attempt),
            *input_tags(spec),
        ]
        inputs = slot_urls(self.platform, spec, self.input_slots, self.files) if spec.inputs else []
        # A job to file is started once filed, so its outputs land in its folder too.
        url = self.platform.create_job(
            name=spec.name, step=self.step, parameters=spec.parameters, tags=tags, inputs=inputs,
            start=spec.folder is None,
        )
        if spec.folder is not None:
            self._file_and_start(task, url)
        return url

    def _file_and_start(self, task: Task, url: str) -> None:
        """File a created job in its folder (if it has one), then start it; both safe to repeat."""
        if task.spec.folder is not None:
            file_job(self.platform, url, self.folders[task.spec.folder])
        self.platform.start_job(url)

    def _existing(self, task: Task) -> RemoteJob | None:
        jobs = self.platform.jobs_with_key(self.batch, task.spec.key, self.run)
        same = [job for job in jobs if job.attempt == task.attempt]
        return same[-1] if same else None  # oldest first: the last one is the newest


def work(board: Board, submit: Submitter, acknowledged: Callable[[], None]) -> None:
    """A submit thread's loop: take a task, submit it, report back, until the board closes.
    ``acknowledged`` runs after each job the platform confirmed (it wakes the watch loop)."""
    try:
        while (task := board.take()) is not None:
            try:
                url = submit(task)
            except PlatformUnreachable:
                raise  # the platform is gone, not just this point: the run stops
            except PlatformError as error:
                board.submit_failed(task, str(error))
            else:
                board.submitted(task, url)
                acknowledged()
    except BaseException as error:  # surfaced by the watch loop, never swallowed
        board.crashed(error)
