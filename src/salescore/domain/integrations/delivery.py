"""What an attempt to deliver a webhook message leads to, and what it is signed with.

- Only a 2xx answer is a success. Anything else fails the attempt: another status (a
  redirect, which is never followed, included), no answer in time, a connection that could
  not be made, an address refused as a server-side request forgery.
- A 410 disables the endpoint (`410 Gone from the endpoint`); the delivery ends `failed`.
- Otherwise, after the k-th failed attempt since the delivery was queued, it is tried again
  `schedule[k]` seconds later, times a jitter factor in [0.9, 1.1) so that retries of many
  deliveries spread out; when the schedule has no k-th wait, the delivery ends `failed`. A
  429 or 503 with `Retry-After` (seconds or an HTTP date) waits at least that long (at most
  `FAILING_LIMIT`: by then the endpoint is disabled anyway if it still fails).
- Every failure marks the endpoint failing from then, unless it already was; one failing for
  `FAILING_LIMIT` (five days without a 2xx while deliveries were due) is disabled (`no
  success for five days`), and every active admin of the organization is told, as they are
  for a 410."""

import codecs
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from salescore.domain.integrations.webhooks import FAILING_LIMIT, DeliveryStatus

GONE = "410 Gone from the endpoint"
NO_SUCCESS = "no success for five days"
DISABLED_NOTIFICATION = "webhook_endpoint_disabled"
EXCERPT_BYTES = 1024
JITTER_LOW, JITTER_HIGH = 0.9, 1.1
RETRY_AFTER_STATUSES = frozenset({429, 503})
RETRY_AFTER_CAP = FAILING_LIMIT
TEST_MESSAGE = "webhook.test"


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """One attempt as it went: the answer's status (None without one), or why there was
    none (`error`), how long it took, the start of the answer's body, `Retry-After`."""

    attempted_at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    response_excerpt: str | None = None
    retry_after: str | None = None

    @property
    def succeeded(self) -> bool:
        """Only a 2xx is a success."""
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class NextStep:
    """The delivery after an attempt: still `pending` (tried again at `next_attempt_at`),
    `succeeded` or `failed`; `disable_reason` when the answer disables the endpoint."""

    status: DeliveryStatus
    next_attempt_at: datetime | None = None
    disable_reason: str | None = None


def jitter_factor(uniform: float) -> float:
    """The factor a retry's wait is multiplied by, from a random number in [0, 1)."""
    factor = JITTER_LOW + (JITTER_HIGH - JITTER_LOW) * uniform
    return min(factor, math.nextafter(JITTER_HIGH, 0))  # rounding may reach the top


def after_attempt(result: AttemptResult, *, attempts_due: int, schedule: Sequence[int],
                  now: datetime, jitter: float) -> NextStep:
    """What follows an attempt made when `attempts_due` attempts had been made since the
    delivery was queued: success on a 2xx; a 410 fails it and disables the endpoint; any
    other failure is tried again after the schedule's next wait (times `jitter`, and at
    least what a 429's or 503's `Retry-After` asks), or fails it once the schedule is
    used up."""
    if result.succeeded:
        return NextStep(DeliveryStatus.SUCCEEDED)
    if result.status_code == 410:
        return NextStep(DeliveryStatus.FAILED, disable_reason=GONE)
    made = attempts_due + 1
    if made >= len(schedule):
        return NextStep(DeliveryStatus.FAILED)
    wait = timedelta(seconds=schedule[made] * jitter)
    if result.status_code in RETRY_AFTER_STATUSES:
        asked = retry_after(result.retry_after, now)
        if asked is not None:
            wait = max(wait, min(asked, RETRY_AFTER_CAP))
    return NextStep(DeliveryStatus.PENDING, next_attempt_at=now + wait)


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """`Retry-After` as a wait: delta-seconds, or an HTTP date (a past one: no wait); None
    when absent or not readable."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return timedelta(seconds=min(int(value), int(RETRY_AFTER_CAP.total_seconds())))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


def failing_too_long(failing_since: datetime | None, now: datetime) -> bool:
    """Five days (`FAILING_LIMIT`) without a 2xx since the endpoint's first failure."""
    return failing_since is not None and now - failing_since >= FAILING_LIMIT


def signing_secrets(current: str, previous: str | None, previous_expires_at: datetime | None,
                    now: datetime) -> tuple[str, ...]:
    """The secrets a message is signed with: the current one, and after a rotation the
    previous one too until it expires."""
    if previous is not None and previous_expires_at is not None and previous_expires_at > now:
        return current, previous
    return (current,)


def excerpt(body: bytes) -> str:
    """At most the first kilobyte of an answer's body, as text: bytes that are not UTF-8
    replaced, a character the cut leaves unfinished dropped."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    return str(decoder.decode(body[:EXCERPT_BYTES], final=len(body) <= EXCERPT_BYTES))


def disabled_text(url: str, reason: str) -> str:
    """What admins are told when an endpoint is disabled."""
    return f"The webhook endpoint {url} was disabled: {reason}"[:2000]
