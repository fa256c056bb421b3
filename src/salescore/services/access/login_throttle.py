"""Logging in under the throttle of failed logins (rules: domain/access/login_throttle.py).

The counts are kept per process, like the rate limits: with N replicas an attacker gets up
to N times the attempts before every one of them locks. An attempt is counted as a failure
when it is let in, before the password is checked, so that attempts sent all at once are
counted as they come; its count is taken back when it turns out not to have failed. A
successful login clears its email's count, not its address's (else one account of one's
own would reset the count of every guess made from that address)."""

import time
from collections.abc import Callable

from salescore.domain.access.login_throttle import (
    Failures,
    LoginThrottled,
    ThrottlePolicy,
    failed,
    wait_seconds,
    withdrawn,
)
from salescore.domain.errors import InvalidInput, NotAuthenticated
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.access.auth import log_in
from salescore.services.access.recent import Recent

MAX_ENTRIES = 100_000


class LoginThrottle:
    def __init__(self, policy: ThrottlePolicy, *, clock: Callable[[], float] = time.monotonic,
                 max_entries: int = MAX_ENTRIES) -> None:
        self.by_email = policy
        self.by_address = policy.for_address()
        self._clock = clock
        self._emails: Recent[str, Failures] = Recent(max_entries)
        self._addresses: Recent[str, Failures] = Recent(max_entries)

    def admit(self, *, email: str, address: str) -> None:
        """Let an attempt in, counted as a failure until it is known not to be one; or
        refuse it (LoginThrottled) while its email or address must wait."""
        if not self.by_email.enabled:
            return
        now, email = self._clock(), _email_key(email)
        known_email, known_address = self._emails.get(email), self._addresses.get(address)
        wait = max(wait_seconds(self.by_email, known_email, now=now),
                   wait_seconds(self.by_address, known_address, now=now))
        if wait > 0:
            raise LoginThrottled(wait)
        self._emails.put(email, failed(self.by_email, known_email, now=now))
        self._addresses.put(address, failed(self.by_address, known_address, now=now))

    def succeeded(self, *, email: str, address: str) -> None:
        """The password was right: the email starts afresh; the address's count goes
        back down by the one this attempt added."""
        if self.by_email.enabled:
            self._emails.drop(_email_key(email))
            self._addresses.put_or_drop(address, withdrawn(self._addresses.get(address)))

    def not_decided(self, *, email: str, address: str) -> None:
        """The attempt ended before the password was judged: it counts for nothing."""
        if self.by_email.enabled:
            email = _email_key(email)
            self._emails.put_or_drop(email, withdrawn(self._emails.get(email)))
            self._addresses.put_or_drop(address, withdrawn(self._addresses.get(address)))


def _email_key(email: str) -> str:
    """Emails compare case-insensitively, as logins do."""
    return email.strip().lower()


async def log_in_throttled(uow: UnitOfWork, *, throttle: LoginThrottle, address: str,
                           email: str, password: str,
                           organization_id: int | None = None) -> tuple[int, int]:
    """`log_in` for a client at `address`, refused (LoginThrottled) while the email or the
    address must wait. A wrong password, or an email nobody has, is a failure; a password
    that is right in several organizations is not."""
    throttle.admit(email=email, address=address)
    try:
        found = await log_in(uow, email=email, password=password,
                             organization_id=organization_id)
    except NotAuthenticated:
        raise
    except InvalidInput:
        throttle.succeeded(email=email, address=address)
        raise
    except BaseException:
        throttle.not_decided(email=email, address=address)
        raise
    throttle.succeeded(email=email, address=address)
    return found
