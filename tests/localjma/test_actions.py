"""Job and processing-step actions beyond the guide: flags, rename, folders, lineage, steps."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import httpx
import pytest
from pinexq.client.job_management import Job, JobQuery, ProcessingStep
from pinexq.client.job_management.model import RenameJobParameters

from batchrun.localjma.domain.lifecycle import JOB_ACTIONS, available_actions, blocker
from batchrun.localjma.store.rows import JobRow
from batchrun.states import JobState

pytestmark = pytest.mark.filterwarnings("error::UserWarning")


def test_flags_rename_and_folder(client: httpx.Client) -> None:
    job = Job(client).create("actions: flags")

    assert job.hide().job_hco.hidden and not job.job_hco.hide_action.is_available()
    assert not job.unhide().job_hco.hidden
    assert job.allow_output_data_deletion().job_hco.output_is_deletable
    assert not job.disallow_output_data_deletion().job_hco.output_is_deletable
    job.job_hco.rename_action.execute(RenameJobParameters(NewName="actions: renamed"))
    assert job.get_name() == "actions: renamed"
    assert job.move_to_folder(None).job_hco.folder_path == "/"
    elsewhere = client.post(f"{job.self_link().get_url()}/MoveToFolder", json={"Folder": "http://x/api/Folder/1"})
    assert elsewhere.status_code == 400 and "Folder: no folder at http://x/api/Folder/1" in elsewhere.json()["detail"]


def test_created_filters_and_sub_job_queries(client: httpx.Client, tag: str) -> None:
    before = datetime.now(UTC)
    parent = Job(client).create("actions: parent").set_tags([tag])
    parent.create_sub_job("actions: child").set_tags([tag])

    assert JobQuery.create(client, tags_by_and=[tag], created_after=before).count() == 2
    assert JobQuery.create(client, tags_by_and=[tag], created_before=before).count() == 0
    assert JobQuery.create(client, tags_by_and=[tag], is_sub_job=True).one().job_hco.name == "actions: child"
    assert JobQuery.create(client, parent_job_url=str(parent.self_link().get_url())).count() == 1


def test_delete_with_associated_removes_sub_jobs(client: httpx.Client, tag: str) -> None:
    parent = Job(client).create("actions: lineage").set_tags([tag]).select_processing("noop")
    parent.create_sub_job("actions: lineage child").set_tags([tag]).select_processing("noop").start()
    parent.start().wait_for_completion(timeout_s=30)

    parent.delete_with_associated()

    assert not JobQuery.create(client, tags_by_and=[tag]).exists()


def test_processing_step_tags_hide_deprecate_restore(client: httpx.Client) -> None:
    step = ProcessingStep.from_name(client, "add_v11")

    step.set_tags(["math", "math", "fast"]).hide()
    assert step.processing_step_hco.tags == ["math", "fast"] and step.processing_step_hco.hidden
    step.unhide().deprecate("use add")
    assert step.is_deprecated() and step.processing_step_hco.reason_for_deprecation == "use add"
    assert not step.restore().is_deprecated()
    assert "math" in client.get("/api/ProcessingStepsRoot/UsedTags").json()["properties"]["Tags"]
    step.set_tags([])


@pytest.mark.parametrize("state", list(JobState))
def test_the_actions_offered_are_the_unblocked_ones_whatever_the_job_seen_first(state: JobState) -> None:
    """available_actions remembers a combination of facts from the first job that has it: every
    job with the same facts (other counts, names, ids) gets what blocker says of it."""
    facts = itertools.product((None, "step"), (False, True), (False, True), (0, 1, 3), (0, 2))
    for number, (step_id, hidden, deletable, children, outputs) in enumerate(facts):
        for variant in range(2):
            row = JobRow(seq=number, id=f"{number}-{variant}", name="j", state=state, step_id=step_id,
                         hidden=hidden, output_deletable=deletable, children=children + variant * children,
                         outputs=outputs + variant * outputs)
            assert available_actions(row) == tuple(name for name in JOB_ACTIONS if blocker(row, name) is None)
