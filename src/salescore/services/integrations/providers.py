"""E-signature providers (admins, and API keys with `integrations:*`).

A provider's secret is made here (the kind's own format: `whsec_…` and 32 random bytes for
Standard Webhooks, a random key for DocuSign Connect), or given by the admin when the
provider makes its own (DocuSign Connect's HMAC keys are made in its admin console),
shown in the answers to create and to `rotate-secret` only, and kept encrypted. After a
rotation the previous secret still verifies for 24 hours. Deleting a provider deletes its
callback log."""

from base64 import b64decode
from datetime import datetime
from typing import Any

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import InvalidInput, NotFound, check_version
from salescore.domain.events import DomainEvent, changes, unchanged
from salescore.domain.integrations.providers import (
    PREVIOUS_SECRET_GRACE,
    CallbackLog,
    EsignProvider,
    ProviderKind,
)
from salescore.domain.listing import ListQuery, Page
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.integrations.esign import ADAPTERS
from salescore.services.integrations.secrets import encrypt_secret
from salescore.services.sales.opportunities import now_utc

MIN_GIVEN_SECRET = 16


def _secret(kind: ProviderKind, given: str | None) -> str:
    """The secret given, once it is one the kind can use, or a new one."""
    if given is None:
        return ADAPTERS[kind.value].new_secret()
    if kind is ProviderKind.STANDARD_WEBHOOKS and not _standard_secret(given):
        raise InvalidInput.of("secret", "must be whsec_ and the base64 of at least 24 bytes")
    if len(given) < MIN_GIVEN_SECRET:
        raise InvalidInput.of("secret", f"must have at least {MIN_GIVEN_SECRET} characters")
    return given


def _standard_secret(given: str) -> bool:
    try:
        return given.startswith("whsec_") and len(b64decode(given[6:], validate=True)) >= 24
    except ValueError:
        return False


def _fields(provider: EsignProvider) -> dict[str, Any]:
    return {"name": provider.name, "kind": provider.kind.value, "active": provider.active}


async def create_provider(uow: UnitOfWork, *, caller: Caller, name: str, kind: ProviderKind,
                          active: bool, key: bytes,
                          secret: str | None = None) -> tuple[EsignProvider, str]:
    """A new provider and its secret (returned this once)."""
    require(caller, Scope.INTEGRATIONS_WRITE)
    secret = _secret(kind, secret)
    org = caller.organization_id
    async with uow:
        provider = await uow.esign.add(org, {
            "name": name, "kind": kind.value, "active": active,
            "secret_encrypted": encrypt_secret(secret, key), "created_by": caller.user_id})
        uow.emit(org, caller.actor, DomainEvent("esign_provider.created", "esign_provider",
                                                provider.id, _fields(provider)))
        await uow.commit()
    return provider, secret


async def get_provider(uow: UnitOfWork, *, caller: Caller, provider_id: int) -> EsignProvider:
    require(caller, Scope.INTEGRATIONS_READ)
    async with uow.reading():
        provider = await uow.esign.get(caller.organization_id, provider_id)
    if provider is None:
        raise NotFound("e-signature provider")
    return provider


async def list_providers(uow: UnitOfWork, *, caller: Caller,
                         query: ListQuery) -> Page[EsignProvider]:
    require(caller, Scope.INTEGRATIONS_READ)
    async with uow.reading():
        return await uow.esign.list(caller.organization_id, query)


async def _locked(uow: UnitOfWork, caller: Caller, provider_id: int,
                  if_match: int | None) -> EsignProvider:
    provider = await uow.esign.get(caller.organization_id, provider_id, for_update=True)
    if provider is None:
        raise NotFound("e-signature provider")
    check_version(provider.version, if_match)
    return provider


async def update_provider(uow: UnitOfWork, *, caller: Caller, provider_id: int,
                          values: dict[str, Any], if_match: int | None = None) -> EsignProvider:
    """Rename it, or (de)activate it: an inactive provider's callbacks are refused (401)."""
    require(caller, Scope.INTEGRATIONS_WRITE)
    org = caller.organization_id
    async with uow:
        before = await _locked(uow, caller, provider_id, if_match)
        after = await uow.esign.update(org, provider_id, values)
        if unchanged(before, after):
            return before
        uow.emit(org, caller.actor, DomainEvent(
            "esign_provider.updated", "esign_provider", provider_id,
            {"changes": changes(_fields(before), _fields(after))}))
        await uow.commit()
    return after


async def rotate_secret(uow: UnitOfWork, *, caller: Caller, provider_id: int, key: bytes,
                        secret: str | None = None) -> tuple[EsignProvider, str]:
    """A new secret (returned this once); the previous one verifies for 24 hours more."""
    require(caller, Scope.INTEGRATIONS_WRITE)
    org = caller.organization_id
    now: datetime = now_utc()
    async with uow:
        provider = await _locked(uow, caller, provider_id, None)
        secret = _secret(provider.kind, secret)
        rotated = await uow.esign.rotate(org, provider_id, encrypt_secret(secret, key),
                                         now + PREVIOUS_SECRET_GRACE)
        uow.emit(org, caller.actor, DomainEvent("esign_provider.secret_rotated",
                                                "esign_provider", provider_id, {}))
        await uow.commit()
    return rotated, secret


async def delete_provider(uow: UnitOfWork, *, caller: Caller, provider_id: int,
                          if_match: int | None = None) -> None:
    require(caller, Scope.INTEGRATIONS_WRITE)
    org = caller.organization_id
    async with uow:
        provider = await _locked(uow, caller, provider_id, if_match)
        await uow.esign.delete(org, provider_id)
        uow.emit(org, caller.actor, DomainEvent("esign_provider.deleted", "esign_provider",
                                                provider_id, _fields(provider)))
        await uow.commit()


async def list_callbacks(uow: UnitOfWork, *, caller: Caller, provider_id: int,
                         query: ListQuery) -> Page[CallbackLog]:
    require(caller, Scope.INTEGRATIONS_READ)
    org = caller.organization_id
    async with uow.reading():
        if await uow.esign.get(org, provider_id) is None:
            raise NotFound("e-signature provider")
        return await uow.esign.callbacks(org, provider_id, query)
