"""Grid algebra by example: order, generators, zip, exclude, include, union, merging."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchrun.identity import job_key, spec_hash
from batchrun.manifest import ManifestError, expand, load_manifest, stream_specs
from tests.manifest.support import manifest


def _points(grid: object, **fields: object) -> list[dict[str, object]]:
    return [job.parameters for job in expand(manifest(grid=grid, **fields))]


def test_product_varies_the_last_key_fastest() -> None:
    assert _points({"a": [1, 2], "b": ["x", "y", "z"]}) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"},
        {"a": 2, "b": "x"}, {"a": 2, "b": "y"}, {"a": 2, "b": "z"},
    ]


def test_zip_is_one_axis_at_the_position_it_is_written() -> None:
    points = _points({"a": [1, 2], "zip": {"b": ["x", "y"], "c": [10, 20]}, "d": [0, 1]})
    assert [(p["a"], p["b"], p["c"], p["d"]) for p in points] == [
        (1, "x", 10, 0), (1, "x", 10, 1), (1, "y", 20, 0), (1, "y", 20, 1),
        (2, "x", 10, 0), (2, "x", 10, 1), (2, "y", 20, 0), (2, "y", 20, 1),
    ]


@pytest.mark.parametrize(
    ("generator", "values"),
    [
        ({"range": [1, 5]}, [1, 2, 3, 4]),
        ({"range": [0, 10, 3]}, [0, 3, 6, 9]),
        ({"range": [5, 0, -2]}, [5, 3, 1]),
        ({"range": [0, 0.3, 0.1]}, [0.0, 0.1, 0.2]),
        ({"range": [0, 1, 0.25]}, [0.0, 0.25, 0.5, 0.75]),
        ({"linspace": [0, 1, 5]}, [0.0, 0.25, 0.5, 0.75, 1.0]),
        ({"linspace": [0.1, 0.3, 3]}, [0.1, 0.2, 0.3]),
        ({"linspace": [2, 9, 1]}, [2.0]),
        ({"logspace": [-3, -1, 3]}, [0.001, 0.01, 0.1]),
        ({"logspace": [0, 3, 4], "base": 2}, [1.0, 2.0, 4.0, 8.0]),
    ],
)
def test_generators_give_exact_values(generator: dict[str, object], values: list[object]) -> None:
    points = _points({"x": generator})
    assert [p["x"] for p in points] == values
    assert [type(p["x"]) for p in points] == [type(v) for v in values]


def test_exclude_drops_every_point_matching_all_listed_keys() -> None:
    points = _points({"lr": [0.1, 0.01], "depth": [1, 2, 3], "exclude": [{"lr": 0.1, "depth": 2}, {"depth": 3}]})
    assert points == [{"lr": 0.1, "depth": 1}, {"lr": 0.01, "depth": 1}, {"lr": 0.01, "depth": 2}]


def test_exclude_matches_numbers_by_value_not_spelling() -> None:
    assert _points({"x": [1.0, 2.0], "exclude": [{"x": 1}]}) == [{"x": 2.0}]


def test_exclude_can_name_one_member_of_a_zip_group() -> None:
    points = _points({"zip": {"a": [1, 2, 3], "b": ["x", "y", "z"]}, "exclude": [{"b": "y"}]})
    assert points == [{"a": 1, "b": "x"}, {"a": 3, "b": "z"}]


def test_include_is_appended_after_exclude_and_never_filtered_or_merged() -> None:
    points = _points({"lr": [0.1, 0.2], "exclude": [{"lr": 0.1}], "include": [{"lr": 0.1}, {"lr": 9}]})
    assert points == [{"lr": 0.2}, {"lr": 0.1}, {"lr": 9}]


def test_a_list_of_grids_is_their_union_in_order() -> None:
    points = _points([{"a": [1, 2]}, {"a": [3], "b": ["x", "y"]}])
    assert points == [{"a": 1}, {"a": 2}, {"a": 3, "b": "x"}, {"a": 3, "b": "y"}]


def test_a_grid_of_only_include_entries_gives_just_those_points() -> None:
    assert _points({"include": [{"a": 1, "b": 2}, {"a": 3}]}) == [{"a": 1, "b": 2}, {"a": 3}]


def test_fixed_parameters_are_merged_into_every_point_after_the_swept_ones() -> None:
    jobs = expand(manifest(parameters={"epochs": 10}, grid={"lr": [0.1, 0.2]}))
    assert [list(job.parameters.items()) for job in jobs] == [[("lr", 0.1), ("epochs", 10)], [("lr", 0.2), ("epochs", 10)]]


def test_no_grid_means_one_job_with_the_fixed_parameters() -> None:
    (job,) = expand(manifest(parameters={"epochs": 10}))
    assert (job.index, job.name, job.parameters) == (0, "demo-0", {"epochs": 10})


def test_keys_and_specs_follow_identity_rules() -> None:
    jobs = expand(manifest(grid={"lr": [0.1]}, revision="snapshot-7"))
    key = job_key("train", "1.0.0", {"lr": 0.1})
    assert (jobs[0].key, jobs[0].spec, jobs[0].version) == (key, spec_hash(key, "snapshot-7"), "1.0.0")


def test_revision_changes_the_spec_but_never_the_key() -> None:
    first = expand(manifest(grid={"lr": [0.1, 0.2]}, revision=1))
    second = expand(manifest(grid={"lr": [0.1, 0.2]}, revision=2))
    assert [job.key for job in first] == [job.key for job in second]
    assert not {job.spec for job in first} & {job.spec for job in second}


def test_renaming_jobs_changes_no_key() -> None:
    plain = expand(manifest(grid={"lr": [0.1, 0.2]}))
    renamed = expand(manifest(grid={"lr": [0.1, 0.2]}, name="x-{{ lr }}"))
    assert [job.key for job in plain] == [job.key for job in renamed]
    assert [job.name for job in renamed] == ["x-0.1", "x-0.2"]


def test_an_unresolved_version_keys_with_a_star_until_the_planner_resolves_it() -> None:
    unresolved = manifest(step={"function": "train"}, grid={"lr": [0.1]})
    (job,) = expand(unresolved)
    assert (job.version, job.key) == (None, job_key("train", "*", {"lr": 0.1}))
    (resolved,) = expand(unresolved, step_version="2.0.0")
    assert (resolved.version, resolved.key) == ("2.0.0", job_key("train", "2.0.0", {"lr": 0.1}))


def test_a_resolved_version_contradicting_the_manifest_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="contradicts"):
        expand(manifest(grid={"lr": [0.1]}), step_version="9.9.9")


def test_templates_see_parameters_params_batch_index_and_key() -> None:
    jobs = expand(manifest(
        parameters={"epochs": 3},
        grid={"lr": [0.1, 0.2]},
        name="{{ batch }}-{{ index }}-{{ lr }}-{{ params.epochs }}-{{ key[:4] }}",
        tags=["team=ml", "lr={{ lr }}"],
    ))
    assert [job.name for job in jobs] == [f"demo-{i}-{lr}-3-{job.key[:4]}" for i, (lr, job) in enumerate(zip([0.1, 0.2], jobs, strict=True))]
    assert [job.tags for job in jobs] == [("team=ml", "lr=0.1"), ("team=ml", "lr=0.2")]


def test_max_jobs_is_an_inclusive_cap() -> None:
    assert len(expand(manifest(max_jobs=6, grid={"a": [1, 2, 3], "b": [1, 2]}))) == 6
    with pytest.raises(ManifestError, match="expands to 6 points, more than max_jobs"):
        expand(manifest(max_jobs=5, grid={"a": [1, 2, 3], "b": [1, 2]}))


def test_points_files_add_typed_points_after_the_grids(tmp_path: Path) -> None:
    (tmp_path / "points.csv").write_text("lr,depth,label,flag\n0.5,7,x,true\n1e-3,8,\"a,b\",null\n")
    (tmp_path / "more.jsonl").write_text('{"lr": 2, "depth": 9, "label": "y", "flag": false}\n\n')
    (tmp_path / "sweep.yaml").write_text(
        "version: 1\nbatch: demo\nstep: {function: train}\n"
        "grid: {lr: [0.1], depth: [1], label: [z], flag: [false]}\npoints_file: points.csv\n"
    )
    jobs = expand(load_manifest(tmp_path / "sweep.yaml"))
    assert [job.parameters for job in jobs] == [
        {"lr": 0.1, "depth": 1, "label": "z", "flag": False},
        {"lr": 0.5, "depth": 7, "label": "x", "flag": True},
        {"lr": 0.001, "depth": 8, "label": "a,b", "flag": None},
    ]
    (tmp_path / "sweep.yaml").write_text(
        "version: 1\nbatch: demo\nstep: {function: train}\npoints_file: more.jsonl\n"
    )
    assert [job.parameters for job in expand(load_manifest(tmp_path / "sweep.yaml"))] == [
        {"lr": 2, "depth": 9, "label": "y", "flag": False}
    ]


def test_relative_paths_resolve_against_the_manifest_folder(tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "steps.py").write_text("")
    (folder / "sweep.yaml").write_text(
        "version: 1\nbatch: demo\nstep: {function: train}\nlocal: {steps: [steps.py]}\nreport: {dir: out}\n"
    )
    loaded = load_manifest(folder / "sweep.yaml")
    assert loaded.source_path == folder / "sweep.yaml" and loaded.base_dir == folder
    assert loaded.local is not None and loaded.local.steps == [folder / "steps.py"]
    assert loaded.report.dir == folder / "out"


def test_defaults_match_the_documented_ones(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("version: 1\nbatch: demo\nstep: {function: train}\n")
    loaded = load_manifest(tmp_path / "m.yaml")
    execution = loaded.execution
    assert (execution.submit, execution.max_running, execution.retries, execution.timeout,
            execution.on_failure) == (32, 32, 0, None, "continue")
    assert (loaded.report.dir, loaded.report.formats) == (tmp_path / "reports", ["json", "csv", "md"])
    assert (loaded.cleanup.after, loaded.cleanup.delete_output_workdata, loaded.cleanup.delete_input_workdata,
            loaded.cleanup.delete_subjobs_with_data) == ("never", True, False, True)
    assert (loaded.revision, loaded.max_jobs, loaded.name, loaded.tags) == (None, 1_000_000, "{{ batch }}-{{ index }}", [])


@pytest.mark.parametrize(("written", "seconds"), [(90, 90.0), ("90s", 90.0), ("10m", 600.0), ("2h", 7200.0),
                                                  ("1h30m", 5400.0), ("1d", 86400.0), ("250ms", 0.25),
                                                  ("1.5", 1.5), (None, None)])
def test_timeouts_accept_seconds_and_units(written: object, seconds: float | None) -> None:
    assert manifest(execution={"timeout": written}).execution.timeout == seconds


def test_specs_stream_until_the_first_problem_and_the_error_comes_at_the_end() -> None:
    late_collision = manifest(grid={"a": [1, 2, 3], "b": [0, 1]}, name="job-{{ a }}")
    streamed = []
    with pytest.raises(ManifestError, match=r"6 jobs share a name, e\.g\. jobs 0 and 1 render to 'job-1'.*\(b\)"):
        for spec in stream_specs(late_collision):
            streamed.append(spec.name)
    assert streamed == ["job-1"]


def test_streamed_specs_are_the_expanded_ones() -> None:
    sweep = manifest(grid=[{"a": [1, 2], "b": {"range": [0, 3]}}, {"include": [{"a": 9, "c": "x"}]}])
    assert list(stream_specs(sweep)) == expand(sweep)


def test_names_are_told_apart_by_text_even_where_it_is_not_utf8(tmp_path: Path) -> None:
    """Names are held as digests of their text; a lone surrogate (a JSON escape) is text too.
    (It names jobs as a variable: in a parameter it would be hashed into the key as UTF-8.)"""
    (tmp_path / "points.jsonl").write_text('{"s": "\\ud800", "t": 1}\n{"s": "\\udfff", "t": 2}\n'
                                           '{"s": "\\ud800", "t": 3}\n')
    (tmp_path / "sweep.yaml").write_text("version: 1\nbatch: demo\nstep: {function: train}\n"
                                         "points_file: points.jsonl\nvariables: [s]\nname: \"n-{{ s }}\"\n")
    streamed = []
    with pytest.raises(ManifestError, match=r"2 jobs share a name, e\.g\. jobs 0 and 2 render to 'n-\\ud800'.*\(t\)"):
        for spec in stream_specs(load_manifest(tmp_path / "sweep.yaml")):
            streamed.append(spec.name)
    assert streamed == ["n-\ud800", "n-\udfff"]


def test_half_a_surrogate_pair_in_a_parameter_is_refused_where_it_was_written(tmp_path: Path) -> None:
    """A JSON escape of half a UTF-16 pair is not text a key can be hashed from: the manifest
    error names the point's line and the parameter (a variable may hold one: see above)."""
    (tmp_path / "points.jsonl").write_text('{"s": "ok", "t": 1}\n{"s": "\\udc00", "t": 2}\n')
    (tmp_path / "sweep.yaml").write_text("version: 1\nbatch: demo\nstep: {function: train}\n"
                                         "points_file: points.jsonl\nname: \"n-{{ t }}\"\n")
    with pytest.raises(ManifestError) as raised:
        expand(load_manifest(tmp_path / "sweep.yaml"))
    (issue,) = raised.value.issues
    assert (issue.location.line, issue.location.source.endswith("points.jsonl")) == (2, True)
    assert "parameter 's' holds half of a UTF-16 surrogate pair" in issue.message
