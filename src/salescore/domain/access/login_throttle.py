"""Failed logins slow further attempts down, then lock them out for a while.

Counted per email, whether or not any user has it, so that the answer never tells which
emails exist, and per client address. The first `free_failures` failures cost nothing;
from then on an attempt must wait 1 s after the last failure, doubling with each further
failure; at `lock_failures` failures the email (or address) is locked for `lock_seconds`.
An attempt that comes too early is refused unchecked and counts for nothing. Failures are
forgotten once `lock_seconds` pass without another, so a lock ends by itself. Time is
passed in (seconds of a monotonic clock)."""

import math
from dataclasses import dataclass, replace

from salescore.domain.errors import TooManyRequests

# One address may be a whole office behind one NAT: it gets ten times an email's allowance.
ADDRESS_ALLOWANCE = 10


class LoginThrottled(TooManyRequests):
    """Too many failed logins for this email or from this address: try again later. The
    same for an email nobody has."""

    def __init__(self, wait_seconds: float) -> None:
        super().__init__("too many failed logins: try again once Retry-After has passed",
                         retry_after=max(1, math.ceil(wait_seconds)))


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """`lock_failures` 0 turns throttling off."""

    free_failures: int
    lock_failures: int
    lock_seconds: int

    @property
    def enabled(self) -> bool:
        return self.lock_failures > 0

    def for_address(self) -> "ThrottlePolicy":
        return replace(self, free_failures=self.free_failures * ADDRESS_ALLOWANCE,
                       lock_failures=self.lock_failures * ADDRESS_ALLOWANCE)


@dataclass(frozen=True, slots=True)
class Failures:
    count: int
    last_at: float


def is_forgotten(policy: ThrottlePolicy, failures: Failures, *, now: float) -> bool:
    """Failures are forgotten `lock_seconds` after the last one."""
    return now - failures.last_at >= policy.lock_seconds


def wait_seconds(policy: ThrottlePolicy, failures: Failures | None, *, now: float) -> float:
    """How long from `now` before another attempt may be made (0: at once)."""
    if failures is None or is_forgotten(policy, failures, now=now):
        return 0.0
    if failures.count >= policy.lock_failures:
        pause = float(policy.lock_seconds)
    elif failures.count >= policy.free_failures:
        pause = float(min(2 ** (failures.count - policy.free_failures), policy.lock_seconds))
    else:
        return 0.0
    return max(0.0, failures.last_at + pause - now)


def failed(policy: ThrottlePolicy, failures: Failures | None, *, now: float) -> Failures:
    """One failure more, counting afresh once the earlier ones are forgotten."""
    if failures is None or is_forgotten(policy, failures, now=now):
        return Failures(1, now)
    return Failures(failures.count + 1, now)


def withdrawn(failures: Failures | None) -> Failures | None:
    """One failure less: an attempt counted before its outcome was known did not fail."""
    if failures is None or failures.count <= 1:
        return None
    return replace(failures, count=failures.count - 1)
