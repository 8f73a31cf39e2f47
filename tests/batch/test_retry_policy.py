"""The retry rules on their own: which failures are tried again, and how long to wait."""

from __future__ import annotations

import pytest

from batchrun.client.retry import (
    BACKOFF_FIRST,
    BACKOFF_JITTER,
    BACKOFF_MAX,
    RETRY_AFTER_MAX,
    Failure,
    RetryPolicy,
)

NO_ANSWER = Failure(transport=True)  # reset or timed out after connecting
NEVER_SENT = Failure(transport=True, never_sent=True)  # the connection was refused


@pytest.mark.parametrize("failure", [NO_ANSWER, NEVER_SENT, Failure(429), Failure(500), Failure(503)])
def test_no_answer_too_many_requests_and_server_errors_are_transient(failure):
    assert failure.transient


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 422])
def test_refusals_are_permanent(status):
    failure = Failure(status)
    assert not failure.transient and not failure.outage
    assert not failure.create_may_retry and not failure.create_uncertain


def test_an_exception_without_a_status_is_not_retried():
    assert not Failure().transient and not Failure().outage


@pytest.mark.parametrize("failure", [NO_ANSWER, NEVER_SENT, Failure(502), Failure(503), Failure(504)])
def test_no_answer_and_gateway_errors_are_an_outage(failure):
    assert failure.outage


@pytest.mark.parametrize("failure", [Failure(429), Failure(500), Failure(501)])
def test_other_transient_failures_are_no_outage(failure):
    assert not failure.outage


def test_a_create_that_never_reached_the_server_is_retried():
    assert NEVER_SENT.create_may_retry and not NEVER_SENT.create_uncertain
    assert Failure(429).create_may_retry and not Failure(429).create_uncertain


@pytest.mark.parametrize("failure", [NO_ANSWER, Failure(500), Failure(502), Failure(504)])
def test_a_create_that_may_have_been_processed_is_uncertain_not_retried(failure):
    assert failure.create_uncertain and not failure.create_may_retry


def test_retry_after_is_followed_and_capped():
    policy = RetryPolicy()
    assert policy.wait(1, 3.0) == 3.0
    assert policy.wait(1, 0.0) == 0.0
    assert policy.wait(1, 3600.0) == RETRY_AFTER_MAX


def test_backoff_grows_with_jitter_up_to_its_maximum():
    policy = RetryPolicy()
    for _ in range(50):
        assert BACKOFF_FIRST <= policy.wait(1, None) <= BACKOFF_FIRST + BACKOFF_JITTER
        assert 2 * BACKOFF_FIRST <= policy.wait(2, None) <= 2 * BACKOFF_FIRST + BACKOFF_JITTER
        assert policy.wait(10_000, None) == BACKOFF_MAX


def test_failures_get_a_number_of_attempts():
    policy = RetryPolicy(attempts=3)
    assert not policy.give_up(Failure(500), attempt=2, elapsed=100.0)
    assert policy.give_up(Failure(500), attempt=3, elapsed=0.0)
    assert policy.give_up(NO_ANSWER, attempt=3, elapsed=0.0)  # no patience: an outage too


def test_an_outage_is_ridden_out_for_the_patience_not_a_number_of_attempts():
    policy = RetryPolicy(attempts=3, patience=30.0)
    for failure in (NO_ANSWER, Failure(503)):
        assert not policy.give_up(failure, attempt=50, elapsed=29.9)
        assert policy.give_up(failure, attempt=4, elapsed=30.0)
    assert policy.give_up(Failure(500), attempt=3, elapsed=1.0)  # not an outage: attempts count
    assert policy.give_up(Failure(429), attempt=3, elapsed=1.0)
