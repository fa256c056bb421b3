"""Request and response bodies of e-signature providers and their callback log."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from salescore.api.v1.schemas import Flag, Name, NoNul, Patch, Strict
from salescore.domain.integrations.providers import CallbackLog, EsignProvider, ProviderKind

CALLBACKS = "/v1/esign-callbacks/"  # their bodies may be larger (the signed PDF)

Secret = Annotated[str, StringConstraints(min_length=1, max_length=500), NoNul,
                   Field(description="The provider's own secret, when it makes one (DocuSign "
                                     "Connect's HMAC key); left out, one is made.")]


class ProviderCreate(Strict):
    name: Name
    kind: ProviderKind
    active: Flag = True
    secret: Secret | None = None


class SecretRotation(Strict):
    secret: Secret | None = None


class ProviderUpdate(Patch):
    name: Name | None = None
    active: Flag | None = None


class ProviderRead(BaseModel):
    id: int
    name: str
    kind: ProviderKind
    active: bool
    callback_url: str = Field(description="Where the provider sends its callbacks.")
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, provider: EsignProvider, public_base: str) -> "ProviderRead":
        return cls(id=provider.id, name=provider.name, kind=provider.kind,
                   active=provider.active,
                   callback_url=f"{public_base}{CALLBACKS}{provider.id}",
                   created_at=provider.created_at, updated_at=provider.updated_at,
                   version=provider.version)


class ProviderWithSecret(ProviderRead):
    secret: str = Field(description="Shown in this answer only: it is kept encrypted. "
                                    "`whsec_…` for standard_webhooks.")


class CallbackRead(BaseModel):
    id: int
    webhook_id: str | None
    received_at: datetime
    type: str | None
    quote_id: int | None
    verified: bool
    applied: bool
    reason: str | None

    @classmethod
    def of(cls, entry: CallbackLog) -> "CallbackRead":
        return cls(id=entry.id, webhook_id=entry.webhook_id, received_at=entry.received_at,
                   type=entry.type, quote_id=entry.quote_id, verified=entry.verified,
                   applied=entry.applied, reason=entry.reason)


class CallbackAnswer(BaseModel):
    applied: bool
    reason: str | None = None
