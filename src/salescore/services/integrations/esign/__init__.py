"""E-signature provider kinds: one adapter module each, behind one interface.

An adapter makes a new secret in its kind's format and verifies a delivery: it raises
`BadSignature` (401) unless a signature matches one of `secrets` (the current secret and,
for 24 hours after a rotation, the previous one), and `MalformedCallback` (422, naming the
field) when a verified body is not what the kind sends; it raises nothing else, whatever
the body and headers. Nothing in the body is read before the signature is verified."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Protocol

from salescore.domain.integrations.callbacks import (
    BadSignature,
    Callback,
    CallbackKind,
    MalformedCallback,
)
from salescore.services.integrations.esign import docusign_connect, standard_webhooks

__all__ = ["ADAPTERS", "Adapter", "BadSignature", "Callback", "CallbackKind",
           "MalformedCallback"]


class Adapter(Protocol):
    @property
    def kind(self) -> str: ...

    def new_secret(self) -> str: ...

    def verify(self, *, body: bytes, headers: Mapping[str, str], secrets: Sequence[str],
               now: datetime) -> Callback:
        """What the delivery says; `body` exactly as received, `headers` in any case, `now`
        timezone-aware."""
        ...


ADAPTERS: Mapping[str, Adapter] = MappingProxyType({
    adapter.kind: adapter
    for adapter in (standard_webhooks.ADAPTER, docusign_connect.ADAPTER)})
