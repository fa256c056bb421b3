"""Rate limits as token buckets: how many requests a client may send, and when again.

A bucket holds at most `burst` requests' worth of tokens and gains `per_minute` tokens a
minute, continuously. Each request takes one; with less than one left it is refused and
takes nothing, so a client that keeps knocking does not push its next chance further
away. A client not seen lately starts with a full bucket. Time is passed in (seconds of a
monotonic clock). The headers follow draft-ietf-httpapi-ratelimit-headers-10."""

import math
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RatePolicy:
    """One limit, named as `RateLimit-Policy` names it. `per_minute` 0 turns it off."""

    name: str
    per_minute: int
    burst: int
    per_second: float = field(init=False)
    window_seconds: int = field(init=False)

    def __post_init__(self) -> None:
        per_second = self.per_minute / 60
        window = math.ceil(self.burst / per_second) if self.enabled else 0
        object.__setattr__(self, "per_second", per_second)
        object.__setattr__(self, "window_seconds", max(1, window))

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0 and self.burst > 0

    def header(self) -> str:
        """`RateLimit-Policy`: `q` is the bucket's size, `w` the seconds an empty one takes
        to fill."""
        return f'"{self.name}";q={self.burst};w={self.window_seconds}'


class Bucket:
    """One client's bucket. Changed in place rather than replaced: it is taken from on
    every request, and a new object each time would cost more than the rest of the limit."""

    __slots__ = ("at", "tokens")

    def __init__(self, policy: RatePolicy, *, now: float) -> None:
        self.tokens = float(policy.burst)
        self.at = now

    def take(self, policy: RatePolicy, *, now: float) -> bool:
        """Takes a token for a request, if one is there."""
        if now > self.at:
            tokens = self.tokens + (now - self.at) * policy.per_second
            self.tokens = policy.burst if tokens > policy.burst else tokens
            self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def next_token_seconds(self, policy: RatePolicy) -> int:
        """Whole seconds (rounded up) until one request more may be sent than now; 0 when
        the bucket is full. After a refusal, the `Retry-After`."""
        if self.tokens >= policy.burst:
            return 0
        missing = math.floor(self.tokens) + 1 - self.tokens
        return max(1, math.ceil(missing / policy.per_second))

    def header(self, policy: RatePolicy) -> str:
        """`RateLimit`: `r` requests may be sent now, and no more than `r` within `t`
        seconds, when the next token comes."""
        return (f'"{policy.name}";r={math.floor(self.tokens)};'
                f't={self.next_token_seconds(policy)}')
