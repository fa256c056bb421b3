"""What an attempt leads to: success only on a 2xx, 410 disabling, the retry schedule with
its jitter, Retry-After, the five-day rule, the secrets that sign, the answer's excerpt."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salescore.domain.integrations.delivery import (
    GONE,
    AttemptResult,
    NextStep,
    after_attempt,
    disabled_text,
    excerpt,
    failing_too_long,
    jitter_factor,
    retry_after,
    signing_secrets,
)
from salescore.domain.integrations.webhooks import DeliveryStatus

NOW = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
SCHEDULE = (0, 5, 300, 1800)


def attempt(status: int | None = None, *, error: str | None = None,
            retry: str | None = None) -> AttemptResult:
    return AttemptResult(NOW, 10, status_code=status, error=error, retry_after=retry)


def step_after(result: AttemptResult, attempts_due: int = 0, jitter: float = 1.0) -> NextStep:
    return after_attempt(result, attempts_due=attempts_due, schedule=SCHEDULE, now=NOW,
                         jitter=jitter)


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_only_a_2xx_succeeds(status: int) -> None:
    assert step_after(attempt(status)).status is DeliveryStatus.SUCCEEDED


@pytest.mark.parametrize("status", [199, 301, 302, 304, 400, 404, 500, 502])
def test_any_other_answer_is_tried_again(status: int) -> None:
    step = step_after(attempt(status))
    assert step.status is DeliveryStatus.PENDING
    assert step.next_attempt_at == NOW + timedelta(seconds=5)
    assert step.disable_reason is None


def test_no_answer_at_all_is_tried_again() -> None:
    assert step_after(attempt(error="refused: a loopback address")).status is (
        DeliveryStatus.PENDING)


def test_a_410_fails_the_delivery_and_disables_the_endpoint() -> None:
    step = step_after(attempt(410))
    assert step.status is DeliveryStatus.FAILED and step.disable_reason == GONE
    assert GONE == "410 Gone from the endpoint"


def test_the_kth_failure_waits_the_schedules_kth_wait_then_fails() -> None:
    waits = [step_after(attempt(500), attempts_due=k).next_attempt_at for k in range(3)]
    assert waits == [NOW + timedelta(seconds=s) for s in (5, 300, 1800)]
    assert step_after(attempt(500), attempts_due=3).status is DeliveryStatus.FAILED


@given(st.floats(min_value=0, max_value=1, exclude_max=True))
def test_jitter_stays_within_a_tenth_of_the_wait(uniform: float) -> None:
    factor = jitter_factor(uniform)
    assert 0.9 <= factor < 1.1
    wait = step_after(attempt(500), attempts_due=1, jitter=factor).next_attempt_at - NOW
    assert timedelta(seconds=270) <= wait <= timedelta(seconds=330)


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_on_429_and_503_waits_at_least_that_long(status: int) -> None:
    assert step_after(attempt(status, retry="120")).next_attempt_at == (
        NOW + timedelta(seconds=120))
    # A shorter Retry-After than the schedule's wait changes nothing.
    assert step_after(attempt(status, retry="1")).next_attempt_at == NOW + timedelta(seconds=5)


def test_retry_after_is_ignored_on_other_statuses() -> None:
    assert step_after(attempt(500, retry="120")).next_attempt_at == NOW + timedelta(seconds=5)


def test_retry_after_may_be_an_http_date() -> None:
    assert retry_after("Tue, 06 May 2031 07:18:09 GMT", NOW) == timedelta(minutes=10)
    assert retry_after("Tue, 06 May 2031 07:00:00 GMT", NOW) == timedelta(0)  # past
    assert retry_after("soon", NOW) is None and retry_after(None, NOW) is None


def test_retry_after_asks_for_five_days_at_most() -> None:
    assert retry_after("99999999999", NOW) == timedelta(days=5)
    step = step_after(attempt(503, retry="Fri, 01 Jan 2100 00:00:00 GMT"))
    assert step.next_attempt_at == NOW + timedelta(days=5)


def test_five_days_of_failures_are_too_long() -> None:
    assert failing_too_long(NOW - timedelta(days=5), NOW)
    assert not failing_too_long(NOW - timedelta(days=5) + timedelta(seconds=1), NOW)
    assert not failing_too_long(None, NOW)


def test_the_previous_secret_signs_until_it_expires() -> None:
    assert signing_secrets("new", "old", NOW + timedelta(seconds=1), NOW) == ("new", "old")
    assert signing_secrets("new", "old", NOW, NOW) == ("new",)
    assert signing_secrets("new", None, None, NOW) == ("new",)


def test_the_excerpt_is_the_first_kilobyte() -> None:
    assert excerpt(b"short") == "short"
    assert excerpt(b"a" * 5000) == "a" * 1024
    # A character the cut leaves unfinished is dropped; bytes that are not UTF-8 replaced.
    assert excerpt(b"a" * 1023 + "é".encode() + b"zz") == "a" * 1023
    assert excerpt(b"\xff ok") == "\ufffd ok"


def test_the_admins_are_told_which_endpoint_and_why() -> None:
    assert disabled_text("https://x.test/h", GONE) == (
        "The webhook endpoint https://x.test/h was disabled: 410 Gone from the endpoint")
