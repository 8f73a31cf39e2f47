"""The pure parts of a search: the objective's path, the space as distributions, and the
history and best trial computed from trials (jobs as data, no server)."""

from __future__ import annotations

import dataclasses

import optuna
import pytest

from batchrun.identity import trial_tag
from batchrun.manifest import expand_trial
from batchrun.search.history import summarize
from batchrun.search.objective import measure
from batchrun.search.sampler import distributions
from batchrun.search.trials import Trial, trial_number
from tests.manifest.support import manifest

SEARCH = {"objective": {"result": "loss"}, "budget": 10}


@pytest.mark.parametrize(("result", "path", "value"), [
    ('{"loss": 0.5}', "loss", 0.5),
    ('{"metrics": {"val": 3}}', "metrics.val", 3.0),
    ("2.5", ".", 2.5),
])
def test_the_objective_is_the_number_at_its_path(result, path, value):
    assert measure(result, path).value == value


@pytest.mark.parametrize(("result", "path", "message"), [
    ('{"acc": 1}', "loss", "the objective 'loss' is not in the job's result (found: 'acc')"),
    ('{"loss": "low"}', "loss", "the objective 'loss' is 'low', not a finite number"),
    ('{"loss": true}', "loss", "the objective 'loss' is True, not a finite number"),
    ('{"loss": NaN}', "loss", "the objective 'loss' is nan, not a finite number"),
    ("[1, 2]", "loss", "the objective 'loss' is not in the job's result (found: list)"),
    (None, "loss", "the job returned no result"),
    ("not json", "loss", "the job's result is not JSON"),
])
def test_a_missing_or_non_numeric_objective_says_what_was_found(result, path, message):
    measured = measure(result, path)
    assert measured.value is None and measured.error is not None and message in measured.error


def test_the_space_reads_the_grid_generators_as_distributions():
    space = manifest(search={**SEARCH, "space": {
        "depth": {"range": [1, 12]},
        "width": {"range": [1, 10, 3]},
        "ratio": {"range": [0, 1, 0.25]},
        "lr": {"logspace": [-4, -1]},
        "momentum": {"linspace": [0, 0.99]},
        "optimizer": ["sgd", "adam"],
    }}).search
    assert space is not None
    found = distributions(space)
    assert found == {
        "depth": optuna.distributions.IntDistribution(1, 11),
        "width": optuna.distributions.IntDistribution(1, 7, step=3),
        "ratio": optuna.distributions.FloatDistribution(0.0, 0.75, step=0.25),
        "lr": optuna.distributions.FloatDistribution(0.0001, 0.1, log=True),
        "momentum": optuna.distributions.FloatDistribution(0.0, 0.99),
        "optimizer": optuna.distributions.CategoricalDistribution(["sgd", "adam"]),
    }


def test_a_trial_is_keyed_like_a_grid_point_and_tagged_with_its_number():
    searched = manifest(search={**SEARCH, "space": {"lr": [0.1, 0.2]}}, parameters={"epochs": 5})
    first, again = expand_trial(searched, 0, {"lr": 0.1}), expand_trial(searched, 7, {"lr": 0.1})
    assert first.key == again.key and first.parameters == {"lr": 0.1, "epochs": 5}
    assert first.tags[-1] == trial_tag(0) and again.tags[-1] == trial_tag(7)


def test_the_history_follows_completion_order_and_the_best_so_far(make_job):
    searched = manifest(search={**SEARCH, "space": {"lr": [1, 2, 3, 4]}})
    trials = []
    for number, (state, result, minutes) in enumerate([
        ("Completed", '{"loss": 0.5}', 3),   # finished last
        ("Completed", '{"loss": 0.9}', 1),
        ("Error", None, 2),
        ("Processing", None, 0),            # still running: not in the history
    ]):
        spec = expand_trial(searched, number, {"lr": number + 1})
        job = make_job(spec, state, result=result, minutes=minutes, error="boom" if state == "Error" else None)
        trials.append(Trial(number, spec, job))
    summary = summarize(searched, trials)
    assert [(entry.trial, entry.value, entry.best) for entry in summary.history] == [
        (1, 0.9, 0.9), (2, None, 0.9), (0, 0.5, 0.5),
    ]
    assert summary.history[1].error == "boom"
    assert (summary.best_trial, summary.best_value, summary.trials) == (0, 0.5, 4)


def test_maximizing_keeps_the_largest_value(make_job):
    searched = manifest(search={**SEARCH, "objective": {"result": "acc", "direction": "maximize"},
                                "space": {"lr": [1, 2]}})
    trials = [Trial(n, spec, make_job(spec, "Completed", result=f'{{"acc": {value}}}', minutes=n))
              for n, value in enumerate([0.7, 0.6])
              for spec in [expand_trial(searched, n, {"lr": n + 1})]]
    summary = summarize(searched, trials)
    assert (summary.best_trial, summary.best_value) == (0, 0.7)
    assert [entry.best for entry in summary.history] == [0.7, 0.7]


def test_only_a_trial_tag_names_a_trial(make_job, make_spec):
    job = make_job(make_spec(0, {"a": 1}), "Completed")
    assert trial_number(job) is None
    tagged = dataclasses.replace(job, other_tags=(*job.other_tags, trial_tag(12)))
    assert trial_number(tagged) == 12
