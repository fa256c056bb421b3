"""Failed logins: free at first, then slower, then locked; forgotten after the lock."""

from salescore.domain.access.login_throttle import (
    LoginThrottled,
    ThrottlePolicy,
    failed,
    wait_seconds,
    withdrawn,
)

POLICY = ThrottlePolicy(free_failures=3, lock_failures=6, lock_seconds=900)


def _failures(count: int, *, at: float = 0.0):
    failures = None
    for _ in range(count):
        failures = failed(POLICY, failures, now=at)
    return failures


def test_the_first_failures_cost_nothing():
    for count in range(POLICY.free_failures):
        assert wait_seconds(POLICY, _failures(count), now=0.0) == 0


def test_past_the_free_failures_each_attempt_waits_twice_as_long_as_the_one_before():
    waits = [wait_seconds(POLICY, _failures(count), now=0.0) for count in (3, 4, 5)]
    assert waits == [1.0, 2.0, 4.0]
    assert wait_seconds(POLICY, _failures(4), now=1.5) == 0.5


def test_at_the_lock_failures_the_wait_is_the_lock():
    assert wait_seconds(POLICY, _failures(6), now=0.0) == 900
    assert wait_seconds(POLICY, _failures(6), now=899.0) == 1


def test_failures_are_forgotten_once_the_lock_time_passes_without_one():
    locked = _failures(6)
    assert wait_seconds(POLICY, locked, now=900.0) == 0
    assert failed(POLICY, locked, now=900.0).count == 1
    assert failed(POLICY, locked, now=899.0).count == 7


def test_the_waits_never_pass_the_lock_time():
    wide = ThrottlePolicy(free_failures=1, lock_failures=100, lock_seconds=60)
    failures = None
    for _ in range(50):
        failures = failed(wide, failures, now=0.0)
    assert wait_seconds(wide, failures, now=0.0) == 60


def test_an_attempt_that_did_not_fail_is_taken_back():
    assert withdrawn(_failures(2)).count == 1
    assert withdrawn(_failures(1)) is None
    assert withdrawn(None) is None


def test_an_address_is_allowed_ten_times_what_an_email_is():
    address = POLICY.for_address()
    assert (address.free_failures, address.lock_failures) == (30, 60)
    assert address.lock_seconds == POLICY.lock_seconds


def test_the_refusal_asks_for_whole_seconds_and_names_no_email():
    refusal = LoginThrottled(0.2)
    assert refusal.retry_after == 1
    assert LoginThrottled(899.4).retry_after == 900
    assert "@" not in refusal.detail


def test_no_lock_failures_means_no_throttling():
    assert not ThrottlePolicy(free_failures=5, lock_failures=0, lock_seconds=900).enabled
