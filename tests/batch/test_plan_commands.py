"""``batchrun plan`` end to end: real local JMA, real client, the real CLI entry point."""

from __future__ import annotations

import json

from batchrun.manifest import expand, load_manifest
from batchrun.steps import resolve_step


def plan_json(cli, path, jma, *extra, exit_code=0):
    """``plan -o json``: the result and the document; ``exit_code`` is checked (2 for changes
    pending with ``--detailed-exitcode``)."""
    result = cli(["plan", str(path), "--endpoint", jma.url, "-o", "json", *extra])
    assert result.exit_code == exit_code, result.stderr
    return result, (json.loads(result.stdout) if result.stdout.strip() else None)


def test_fresh_batch_plans_one_create_per_point(cli, jma, write_manifest):
    path = write_manifest("fresh", grid="a: [1, 2, 3]")
    result, document = plan_json(cli, path, jma, "--detailed-exitcode", exit_code=2)
    assert result.exit_code == 2, result.stderr
    assert document["format_version"] == 1
    assert document["summary"]["create"] == 3 and document["changes"] == 3
    assert {entry["reason"] for entry in document["entries"]} == {"no job for this point yet"}
    table = cli(["plan", str(path), "--endpoint", jma.url])
    assert table.exit_code == 0
    assert "Plan: 3 create" in table.stdout and "fresh-0" in table.stdout


def test_editing_the_manifest_gives_one_create_and_one_orphan(cli, jma, platform, submit, write_manifest):
    path = write_manifest("edit", grid="a: [1, 2, 3]")
    manifest = load_manifest(path)
    submit(platform, manifest, expand(manifest, step_version="1.0.0"))
    result, document = plan_json(cli, path, jma, "--detailed-exitcode")
    assert result.exit_code == 0, result.stderr
    assert document["summary"]["unchanged"] == 3 and document["changes"] == 0

    path = write_manifest("edit", grid="a: [1, 2, 4]")
    result, document = plan_json(cli, path, jma, "--detailed-exitcode", exit_code=2)
    assert result.exit_code == 2
    nonzero = {action: count for action, count in document["summary"].items() if count}
    assert nonzero == {"unchanged": 2, "create": 1, "orphaned": 1}
    [created] = [e for e in document["entries"] if e["action"] == "create"]
    [orphan] = [e for e in document["entries"] if e["action"] == "orphaned"]
    assert created["parameters"] == {"a": 4, "b": 10}
    assert orphan["job"]["state"] == "Completed" and "--prune" in orphan["reason"]
    assert document["changes"] == 1
    _, pruned = plan_json(cli, path, jma, "--prune")
    assert pruned["changes"] == 2


def test_failed_points_are_reported_and_rerun_on_request(cli, jma, platform, submit, write_manifest):
    path = write_manifest("failing", function="fail", grid="message: [boom, bang]", parameters="{}")
    manifest = load_manifest(path)
    submit(platform, manifest, expand(manifest, step_version="1.0.0"))
    result, document = plan_json(cli, path, jma, "--detailed-exitcode")
    assert result.exit_code == 0
    assert document["summary"]["failed"] == 2
    assert any("ValueError: boom" in entry["reason"] for entry in document["entries"])
    _, rerun = plan_json(cli, path, jma, "--rerun-failed")
    assert rerun["summary"]["rerun"] == 2 and rerun["changes"] == 2


def test_unstarted_jobs_plan_a_start_and_runs_are_separate(cli, jma, platform, write_manifest):
    path = write_manifest("unstarted", grid="a: [1]")
    manifest = load_manifest(path)
    [point] = expand(manifest, step_version="1.0.0")
    step = resolve_step(platform, "add", "1.0.0")
    from batchrun.identity import ownership_tags

    platform.create_job(name=point.name, step=step, parameters=point.parameters, start=False,
                        tags=ownership_tags("unstarted", point.key, point.spec, "1", 1))
    _, document = plan_json(cli, path, jma)
    assert document["entries"][0]["action"] == "start"
    assert "never started" in document["entries"][0]["reason"]
    _, other_run = plan_json(cli, path, jma, "--run", "2")
    assert other_run["run"] == "2" and other_run["summary"]["create"] == 1


def test_explain_and_full_show_every_entry(cli, jma, platform, submit, write_manifest):
    path = write_manifest("long", grid="a: {range: [0, 45]}")
    manifest = load_manifest(path)
    submit(platform, manifest, expand(manifest, step_version="1.0.0")[:1])
    short = cli(["plan", str(path), "--endpoint", jma.url])
    assert short.exit_code == 0, short.stderr
    assert "more entries (use --full)" in short.stdout and "long-0 " not in short.stdout
    full = cli(["plan", str(path), "--endpoint", jma.url, "--explain", "--full"])
    assert full.exit_code == 0, full.stderr
    assert "long-0" in full.stdout and "long-44" in full.stdout and "more entries" not in full.stdout
    assert "/api/Job/" in full.stdout


def test_parameters_are_validated_before_anything(cli, jma, write_manifest):
    path = write_manifest("badparams", grid="a: [1, x]")
    result = cli(["plan", str(path), "--endpoint", jma.url])
    assert result.exit_code == 2
    assert "1 of 2 points" in result.stderr and "badparams-1" in result.stderr
    assert result.stdout == ""


def test_unknown_step_version_lists_the_available_ones(cli, jma, write_manifest):
    result = cli(["plan", str(write_manifest("nover", version="9.9.9")), "--endpoint", jma.url])
    assert result.exit_code == 2
    assert "add@9.9.9" in result.stderr and "1.0.0" in result.stderr


def test_unreachable_platform_exits_1(cli, write_manifest):
    result = cli(["plan", str(write_manifest("down")), "--endpoint", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "cannot reach the platform at http://127.0.0.1:9" in result.stderr
