"""Plan categories decided from specs and the jobs a query returned (no server needed)."""

from __future__ import annotations

import pytest

from batchrun.cli.commands.plan import plan_document
from batchrun.client import StepInfo
from batchrun.errors import UsageError
from batchrun.plan import Action, Plan, check_parameters, classify, excerpt

STEP = StepInfo(url="http://jma.test/api/ProcessingStep/1", function_name="add", version="1.0.0",
                parameter_schema={"type": "object", "properties": {"a": {"type": "number"},
                                  "b": {"type": "number"}}, "required": ["a", "b"]})


def actions(entries):
    return [entry.action for entry in entries]


def test_every_category_with_a_reason(make_spec, make_job):
    specs = [make_spec(i, {"a": i, "b": 1}) for i in range(7)]
    jobs = [
        make_job(specs[1], "Completed", result="2"),
        make_job(specs[2], "Processing"),
        make_job(specs[3], "ReadyForProcessing"),
        make_job(specs[4], "Error", error="Traceback...\nValueError: boom"),
        make_job(specs[5], "Completed", spec_tag="0000000000000000"),
        make_job(specs[6], "Pending"),
        make_job(None, "Completed", key="feedfacefeedface"),
    ]
    entries = classify(specs, jobs)
    assert actions(entries) == [
        Action.CREATE, Action.UNCHANGED, Action.IN_PROGRESS, Action.START, Action.FAILED,
        Action.RERUN, Action.IN_PROGRESS, Action.ORPHANED,
    ]
    assert all(entry.reason for entry in entries)
    assert "ValueError: boom" in entries[4].reason and "--rerun-failed" in entries[4].reason
    assert "spec changed" in entries[5].reason
    assert entries[7].spec is None and entries[7].job is jobs[-1]


def test_rerun_failed_turns_failures_into_reruns(make_spec, make_job):
    specs = [make_spec(0, {"a": 0, "b": 1})]
    for state in ("Error", "Canceled", "DataMissing"):
        [entry] = classify(specs, [make_job(specs[0], state)], rerun_failed=True)
        assert entry.action is Action.RERUN and entry.next_attempt == 2


def test_newest_attempt_counts(make_spec, make_job):
    point = make_spec(0, {"a": 0, "b": 1})
    jobs = [
        make_job(point, "Completed", attempt=3, minutes=1),
        make_job(point, "Error", attempt=1, minutes=0),
        make_job(point, "Error", attempt=2, minutes=5),
    ]
    [entry] = classify([point], jobs)
    assert entry.action is Action.UNCHANGED and entry.job.attempt == 3
    assert entry.next_attempt == 4


def test_old_attempts_are_not_orphans(make_spec, make_job):
    point = make_spec(0, {"a": 0, "b": 1})
    entries = classify([point], [make_job(point, "Error"), make_job(point, "Completed", attempt=2)])
    assert actions(entries) == [Action.UNCHANGED]


def test_edit_gives_one_create_and_one_orphan(make_spec, make_job):
    before = [make_spec(i, {"a": a, "b": 1}) for i, a in enumerate([1, 2, 3])]
    after = [make_spec(i, {"a": a, "b": 1}) for i, a in enumerate([1, 2, 4])]
    jobs = [make_job(point, "Completed", minutes=i) for i, point in enumerate(before)]
    entries = classify(after, jobs)
    assert actions(entries) == [Action.UNCHANGED, Action.UNCHANGED, Action.CREATE, Action.ORPHANED]
    assert entries[3].job.key == before[2].key


def test_changes_count_orphans_only_with_prune(make_spec, make_job):
    point = make_spec(0, {"a": 0, "b": 1})
    entries = tuple(classify([point], [make_job(point, "Completed"), make_job(None, "Error", key="k")]))
    kept = Plan(batch="b", run="1", step=STEP, entries=entries)
    pruned = Plan(batch="b", run="1", step=STEP, entries=entries, prune=True)
    assert kept.changes() == [] and len(pruned.changes()) == 1
    assert kept.counts()["orphaned"] == 1 and kept.counts()["create"] == 0


def test_plan_document_is_versioned_and_complete(make_spec, make_job):
    specs = [make_spec(0, {"a": 0, "b": 1}), make_spec(1, {"a": 1, "b": 1})]
    plan = Plan(batch="b", run="1", step=STEP,
                entries=tuple(classify(specs, [make_job(specs[0], "Completed")])))
    document = plan_document(plan)
    assert document["format_version"] == 1
    assert document["summary"]["unchanged"] == 1 and document["summary"]["create"] == 1
    assert document["changes"] == 1
    assert [entry["action"] for entry in document["entries"]] == ["unchanged", "create"]
    assert document["entries"][0]["job"]["state"] == "Completed"
    assert document["entries"][1]["job"] is None
    assert document["entries"][1]["parameters"] == {"a": 1, "b": 1}


def test_parameters_are_checked_against_the_step_schema(make_spec):
    good = [make_spec(0, {"a": 1, "b": 2})]
    check_parameters(good, STEP)
    bad = [*good, make_spec(1, {"a": "x", "b": 2}), make_spec(2, {"a": 1})]
    with pytest.raises(UsageError) as caught:
        check_parameters(bad, STEP)
    message = str(caught.value)
    assert "2 of 3 points" in message and "nothing was sent" in message
    assert "point 1 (job-1)" in message and "point 2 (job-2)" in message


def test_error_excerpt_keeps_the_last_line():
    assert excerpt("Traceback (most recent call last):\n  File x\nValueError: boom\n") == "ValueError: boom"
    assert excerpt(None) == ""
    assert len(excerpt("x" * 500)) == 200
