"""The delivery of a queued quote e-mail (API.md, "Sending by e-mail").

- A message is `queued` until it is handed over (`sent`) or its last attempt fails
  (`failed`); either way its body is dropped then (only a queued row holds one).
- Attempts follow the webhook retry schedule: `schedule[k]` is the wait before attempt
  k + 1, the first counted from the queueing; after the k-th failed attempt the next one
  is due `schedule[k]` seconds later, and once the schedule has no k-th wait the message
  has failed. Every failure counts the same: a refusal, a server that cannot be reached,
  one that does not answer in time.
- An attempt is counted when a worker takes the message, so that one dying mid-attempt
  still uses up an attempt of the schedule."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class EmailStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """A queued message a worker has taken for its `attempts`-th attempt."""

    organization_id: int
    id: int
    quote_id: int
    to: tuple[str, ...]
    cc: tuple[str, ...]
    message: bytes
    attempts: int

    @property
    def recipients(self) -> tuple[str, ...]:
        """Whom the message goes to: its To and its Cc, each address once."""
        return tuple(dict.fromkeys((*self.to, *self.cc)))


def retry_at(attempts: int, schedule: Sequence[int], failed_at: datetime) -> datetime | None:
    """When a message whose `attempts` attempts all failed is tried again: the schedule's
    wait before the next attempt, counted from the last failure; None once the schedule is
    used up (the message has failed)."""
    if attempts >= len(schedule):
        return None
    return failed_at + timedelta(seconds=schedule[attempts])
