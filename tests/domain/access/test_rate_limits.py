"""Token buckets: a burst at once, then a steady rate, told in the draft's headers."""

from hypothesis import given
from hypothesis import strategies as st

from salescore.domain.access.rate_limits import Bucket, RatePolicy

POLICY = RatePolicy("default", per_minute=60, burst=3)


def _requests(policy: RatePolicy, times: list[float]) -> tuple[Bucket, list[bool]]:
    """One client's requests at `times` (the first one starts its bucket full)."""
    bucket = Bucket(policy, now=times[0] if times else 0.0)
    return bucket, [bucket.take(policy, now=now) for now in times]


def test_a_client_not_seen_lately_may_send_its_burst_at_once_and_no_more():
    bucket, served = _requests(POLICY, [0.0, 0.0, 0.0, 0.0])
    assert served == [True, True, True, False]
    assert bucket.tokens == 0


def test_tokens_come_back_at_the_rate_a_minute():
    _, served = _requests(POLICY, [0.0, 0.0, 0.0, 0.5, 1.0, 1.0])
    assert served == [True, True, True, False, True, False]


def test_a_refused_request_does_not_push_the_next_chance_back():
    _, served = _requests(POLICY, [0.0, 0.0, 0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert served[-1]
    assert not any(served[3:-1])


def test_a_long_quiet_spell_fills_the_bucket_no_further_than_the_burst():
    _, served = _requests(POLICY, [0.0, 3600.0, 3600.0, 3600.0, 3600.0])
    assert served == [True, True, True, True, False]


def test_a_clock_that_goes_back_gives_no_tokens():
    bucket, _ = _requests(POLICY, [10.0, 10.0, 10.0])
    assert not bucket.take(POLICY, now=5.0)
    assert not bucket.take(POLICY, now=10.5)
    assert bucket.take(POLICY, now=11.0)


def test_the_policy_header_gives_the_bucket_and_the_time_it_takes_to_fill():
    assert RatePolicy("default", per_minute=600, burst=600).header() == '"default";q=600;w=60'
    assert RatePolicy("credential", per_minute=600, burst=100).header() == (
        '"credential";q=100;w=10')
    assert RatePolicy("slow", per_minute=1, burst=3).header() == '"slow";q=3;w=180'


def test_the_ratelimit_header_gives_what_is_left_and_when_the_next_request_comes():
    bucket = Bucket(POLICY, now=0.0)
    bucket.take(POLICY, now=0.0)
    assert bucket.header(POLICY) == '"default";r=2;t=1'
    assert [bucket.take(POLICY, now=0.0) for _ in range(2)] == [True, True]
    assert not bucket.take(POLICY, now=0.25)
    assert bucket.header(POLICY) == '"default";r=0;t=1'
    slow = RatePolicy("slow", per_minute=1, burst=1)
    waiting, served = _requests(slow, [0.0, 15.0])
    assert served == [True, False]
    assert waiting.next_token_seconds(slow) == 45


def test_a_full_bucket_has_nothing_to_wait_for():
    assert Bucket(POLICY, now=0.0).next_token_seconds(POLICY) == 0


def test_a_policy_of_zero_a_minute_is_off():
    assert not RatePolicy("off", per_minute=0, burst=10).enabled
    assert POLICY.enabled


@given(st.lists(st.floats(min_value=0, max_value=600, allow_nan=False), max_size=200))
def test_no_span_of_time_serves_more_than_the_burst_and_the_rate(offsets: list[float]):
    times = sorted(offsets)
    _, answers = _requests(POLICY, times)
    served = [now for now, allowed in zip(times, answers, strict=True) if allowed]
    for i, start in enumerate(served):
        for j in range(i, len(served)):
            span = served[j] - start
            assert j - i + 1 <= POLICY.burst + span * POLICY.per_second + 1e-9
