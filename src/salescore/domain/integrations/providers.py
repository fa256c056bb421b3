"""E-signature providers: who may answer an organization's quotes by signed callback."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# After a rotation the previous secret still verifies for this long, so that deliveries
# signed before the provider took the new one still count.
PREVIOUS_SECRET_GRACE = timedelta(hours=24)


class ProviderKind(StrEnum):
    STANDARD_WEBHOOKS = "standard_webhooks"
    DOCUSIGN_CONNECT = "docusign_connect"


@dataclass(frozen=True, slots=True)
class EsignProvider:
    id: int
    organization_id: int
    name: str
    kind: ProviderKind
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True, slots=True)
class StoredSecrets:
    """A provider's secrets as stored (encrypted): the current one, and the previous one
    until it expires."""

    current: str
    previous: str | None
    previous_expires_at: datetime | None

    def valid_at(self, now: datetime) -> tuple[str, ...]:
        if self.previous is None or self.previous_expires_at is None or (
                now >= self.previous_expires_at):
            return (self.current,)
        return (self.current, self.previous)


@dataclass(frozen=True, slots=True)
class CallbackLog:
    id: int
    organization_id: int
    provider_id: int
    webhook_id: str | None
    received_at: datetime
    type: str | None
    quote_id: int | None
    verified: bool
    applied: bool
    reason: str | None
