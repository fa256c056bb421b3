"""A process's short memory of who is behind a credential.

Keyed by the SHA-256 of the credential (the API key or the JWT as sent), it keeps the
`Identity` that authentication found: the caller, its organization and its user. Rules:

- An entry lives `seconds` at most (`SALESCORE_AUTH_CACHE_SECONDS`; 0 turns the cache
  off), and never past `not_after`: a token's entry ends no later than its `exp`.
- Only successful look-ups are kept: a new key or user works at once, a refused
  credential is checked afresh each time.
- A change to an organization's users, keys or description is announced with PostgreSQL
  NOTIFY on commit (repositories/access/auth_notices.py); `forget(organization_id)` then drops
  that organization's entries, in every process. The TTL is only the safety net.
- The cache is trusted only while the process is listening for those notifications
  (`listening()` / `deaf()`): while the listener is down it is empty and bypassed.
- A look-up that started before a `forget` (or before the listener came back) may have
  read the old state; `put` refuses it. Take a `ticket()` before reading the database."""

import time
from collections.abc import Callable
from dataclasses import dataclass

from salescore.services.access.auth import Identity
from salescore.services.access.credentials import api_key_hash

MAX_ENTRIES = 10_000


def credential_key(credential: str) -> bytes:
    """The SHA-256 of a credential as sent: the cache's key, and for an API key also the
    hash it is stored under."""
    return api_key_hash(credential)


@dataclass(frozen=True, slots=True)
class _Entry:
    identity: Identity
    expires_at: float


class CallerCache:
    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.time,
                 max_entries: int = MAX_ENTRIES) -> None:
        self.seconds = seconds
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[bytes, _Entry] = {}
        self._generation = 0
        self._listening = False

    @property
    def active(self) -> bool:
        """Whether entries are kept and served: enabled, and notifications are heard."""
        return self._listening and self.seconds > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: bytes) -> Identity | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= self._clock():
            self._entries.pop(key, None)
            return None
        return entry.identity

    def expires_at(self, key: bytes) -> float | None:
        entry = self._entries.get(key)
        return None if entry is None else entry.expires_at

    def ticket(self) -> int:
        """The state a look-up starts from; `put` keeps its answer only if still current."""
        return self._generation

    def put(self, key: bytes, identity: Identity, *, ticket: int,
            not_after: float | None = None) -> None:
        """Keep `identity` for `key`, unless the cache is off or something was forgotten
        since `ticket` was taken; never past `not_after` (a wall-clock time)."""
        if not self.active or ticket != self._generation:
            return
        now = self._clock()
        expires_at = now + self.seconds
        if not_after is not None:
            expires_at = min(expires_at, not_after)
        if expires_at <= now:
            return
        if len(self._entries) >= self._max_entries:
            self._make_room(now)
        self._entries[key] = _Entry(identity, expires_at)

    def forget(self, organization_id: int | None) -> None:
        """Drop the organization's entries (every entry for None)."""
        self._generation += 1
        if organization_id is None:
            self._entries.clear()
            return
        stale = [key for key, entry in self._entries.items()
                 if entry.identity.caller.organization_id == organization_id]
        for key in stale:
            del self._entries[key]

    def listening(self) -> None:
        """Notifications are heard again: start afresh, since some may have been missed."""
        self.forget(None)
        self._listening = True

    def deaf(self) -> None:
        """Notifications are no longer heard: empty the cache and bypass it."""
        self._listening = False
        self.forget(None)

    def _make_room(self, now: float) -> None:
        for key in [k for k, e in self._entries.items() if e.expires_at <= now]:
            del self._entries[key]
        while len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]
