"""Outbound webhook endpoints and their delivery log (admins, and API keys with
`webhooks:*`), and the list of event types (`events:read`).

An endpoint's secret is made here (`whsec_` and 32 random bytes), shown in the answers to
create and to rotate-secret only, and kept encrypted as e-signature providers' secrets
are; after a rotation the previous one still signs for 24 hours (a second rotation within
them ends the oldest at once). Its URL is checked when saved (see `check_url`:
`allow_private` is SALESCORE_WEBHOOK_ALLOW_PRIVATE_NETWORKS), its host resolved too: one
that resolves to a refused address is refused (422 naming `url`), one that does not resolve
now is taken, as every send checks it again. The endpoint's events carry
its public fields, never a secret. Deleting an endpoint deletes its delivery log.
Queueing deliveries again (redeliver, recover) wakes the workers when it commits."""

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import InvalidInput, NotFound, check_version
from salescore.domain.events import EVENT_TYPES, DomainEvent, changes, unchanged
from salescore.domain.integrations.webhooks import (
    DISABLED_BY_API,
    PREVIOUS_SECRET_GRACE,
    SECRET_BYTES,
    Attempt,
    Delivery,
    Endpoint,
    check_deliverable,
    check_event_types,
    check_url,
    edited,
    new_secret,
)
from salescore.domain.listing import ListQuery, Page
from salescore.repositories.integrations.webhooks import Lock
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.integrations.guard import Refused, Resolver, Unresolved, pin
from salescore.services.integrations.secrets import encrypt_secret
from salescore.services.sales.opportunities import now_utc

ENDPOINT = "webhook endpoint"
# What an edit may change: the fields an admin sends, and those an enabling or a
# disabling sets with them.
_EDITED = ("url", "description", "event_types", "active", "disabled_at", "disabled_reason",
           "failing_since")
_SET_BY_DISABLING = frozenset({"active", "disabled_at", "disabled_reason"})


def _fields(endpoint: Endpoint) -> dict[str, Any]:
    return {"url": endpoint.url, "description": endpoint.description,
            "event_types": list(endpoint.event_types), "active": endpoint.active,
            "disabled_reason": endpoint.disabled_reason}


async def _checked_url(url: str, *, allow_private: bool, resolver: Resolver) -> str:
    url = check_url(url, allow_private=allow_private)
    try:
        await pin(url, resolver=resolver, allow_private=allow_private)
    except Refused as refused:
        raise InvalidInput.of("url", f"must not lead to {refused.reason}") from None
    except Unresolved:
        pass  # checked again at every send
    return url


def _made_secret() -> str:
    return new_secret(secrets.token_bytes(SECRET_BYTES))


async def create_endpoint(uow: UnitOfWork, *, caller: Caller, url: str,
                          description: str | None, event_types: Sequence[str], active: bool,
                          key: bytes, allow_private: bool,
                          resolver: Resolver) -> tuple[Endpoint, str]:
    """A new endpoint and its secret (returned this once). One made inactive is disabled
    from the start, for DISABLED_BY_API."""
    require(caller, Scope.WEBHOOKS_WRITE)
    url = await _checked_url(url, allow_private=allow_private, resolver=resolver)
    types = check_event_types(event_types)
    secret = _made_secret()
    org, now = caller.organization_id, now_utc()
    async with uow:
        endpoint = await uow.webhooks.add(org, {
            "url": url, "description": description, "event_types": list(types),
            "active": active, "disabled_at": None if active else now,
            "disabled_reason": None if active else DISABLED_BY_API,
            "secret_encrypted": encrypt_secret(secret, key), "created_at": now,
            "updated_at": now, "created_by": caller.user_id, "updated_by": caller.user_id})
        uow.emit(org, caller.actor, DomainEvent("webhook_endpoint.created", "webhook_endpoint",
                                                endpoint.id, _fields(endpoint)))
        await uow.commit()
    return endpoint, secret


async def get_endpoint(uow: UnitOfWork, *, caller: Caller, endpoint_id: int) -> Endpoint:
    require(caller, Scope.WEBHOOKS_READ)
    async with uow.reading():
        endpoint = await uow.webhooks.get(caller.organization_id, endpoint_id)
    if endpoint is None:
        raise NotFound(ENDPOINT)
    return endpoint


async def list_endpoints(uow: UnitOfWork, *, caller: Caller,
                         query: ListQuery) -> Page[Endpoint]:
    require(caller, Scope.WEBHOOKS_READ)
    async with uow.reading():
        return await uow.webhooks.list(caller.organization_id, query)


async def _locked(uow: UnitOfWork, caller: Caller, endpoint_id: int, if_match: int | None,
                  lock: Lock) -> Endpoint:
    endpoint = await uow.webhooks.get(caller.organization_id, endpoint_id, lock=lock)
    if endpoint is None:
        raise NotFound(ENDPOINT)
    check_version(endpoint.version, if_match)
    return endpoint


async def update_endpoint(uow: UnitOfWork, *, caller: Caller, endpoint_id: int,
                          values: dict[str, Any], allow_private: bool,
                          resolver: Resolver, if_match: int | None = None) -> Endpoint:
    """Change its URL, description or types, or disable or enable it (see `edited`).
    Disabling ends its pending deliveries `failed`; an edit that changes nothing writes
    nothing (no new version, no event)."""
    require(caller, Scope.WEBHOOKS_WRITE)
    values = dict(values)
    if "url" in values:
        values["url"] = await _checked_url(values["url"], allow_private=allow_private,
                                           resolver=resolver)
    if "event_types" in values:
        values["event_types"] = check_event_types(values["event_types"])
    org, now = caller.organization_id, now_utc()
    async with uow:
        before = await _locked(uow, caller, endpoint_id, if_match, Lock.EDIT)
        after = edited(before, values, now=now)
        if unchanged(before, after):
            return before
        disabling = before.active and not after.active
        if disabling:
            await uow.deliveries.disable_endpoint(org, endpoint_id, reason=DISABLED_BY_API,
                                                  now=now)
        written = {name: getattr(after, name) for name in _EDITED
                   if getattr(after, name) != getattr(before, name)
                   and not (disabling and name in _SET_BY_DISABLING)}
        if "event_types" in written:
            written["event_types"] = list(after.event_types)
        stored = await uow.webhooks.update(org, endpoint_id,
                                           written | {"updated_by": caller.user_id},
                                           now=now, new_version=not disabling)
        uow.emit(org, caller.actor, DomainEvent(
            "webhook_endpoint.updated", "webhook_endpoint", endpoint_id,
            {"changes": changes(_fields(before), _fields(stored))}))
        await uow.commit()
    return stored


async def rotate_secret(uow: UnitOfWork, *, caller: Caller, endpoint_id: int, key: bytes,
                        if_match: int | None = None) -> tuple[Endpoint, str]:
    """A new secret (returned this once); the one it replaces still signs for 24 hours."""
    require(caller, Scope.WEBHOOKS_WRITE)
    secret = _made_secret()
    org, now = caller.organization_id, now_utc()
    async with uow:
        await _locked(uow, caller, endpoint_id, if_match, Lock.EDIT)
        rotated = await uow.webhooks.rotate(
            org, endpoint_id, encrypt_secret(secret, key),
            previous_until=now + PREVIOUS_SECRET_GRACE, now=now, updated_by=caller.user_id)
        uow.emit(org, caller.actor, DomainEvent("webhook_endpoint.secret_rotated",
                                                "webhook_endpoint", endpoint_id,
                                                _fields(rotated)))
        await uow.commit()
    return rotated, secret


async def delete_endpoint(uow: UnitOfWork, *, caller: Caller, endpoint_id: int,
                          if_match: int | None = None) -> None:
    require(caller, Scope.WEBHOOKS_WRITE)
    org = caller.organization_id
    async with uow:
        endpoint = await _locked(uow, caller, endpoint_id, if_match, Lock.DELETE)
        await uow.webhooks.delete(org, endpoint_id)
        uow.emit(org, caller.actor, DomainEvent("webhook_endpoint.deleted", "webhook_endpoint",
                                                endpoint_id, _fields(endpoint)))
        await uow.commit()


async def list_deliveries(uow: UnitOfWork, *, caller: Caller, endpoint_id: int,
                          query: ListQuery) -> Page[Delivery]:
    require(caller, Scope.WEBHOOKS_READ)
    org = caller.organization_id
    async with uow.reading():
        if await uow.webhooks.get(org, endpoint_id) is None:
            raise NotFound(ENDPOINT)
        return await uow.webhooks.deliveries(org, endpoint_id, query)


async def list_attempts(uow: UnitOfWork, *, caller: Caller, delivery_id: int,
                        query: ListQuery) -> Page[Attempt]:
    require(caller, Scope.WEBHOOKS_READ)
    org = caller.organization_id
    async with uow.reading():
        if await uow.webhooks.delivery(org, delivery_id) is None:
            raise NotFound("webhook delivery")
        return await uow.webhooks.attempts(org, delivery_id, query)


async def redeliver(uow: UnitOfWork, *, caller: Caller, delivery_id: int) -> Delivery:
    """The delivery queued again, due now, whatever its status; refused while its
    endpoint is inactive."""
    require(caller, Scope.WEBHOOKS_WRITE)
    org, now = caller.organization_id, now_utc()
    async with uow:
        delivery = await uow.webhooks.delivery(org, delivery_id)
        endpoint = None if delivery is None else await uow.webhooks.get(
            org, delivery.endpoint_id, lock=Lock.KEEP)
        if endpoint is None:
            raise NotFound("webhook delivery")
        check_deliverable(endpoint)
        queued = await uow.webhooks.redeliver(org, delivery_id, now=now)
        await uow.webhooks.wake_workers()
        await uow.commit()
    return queued


async def recover(uow: UnitOfWork, *, caller: Caller, endpoint_id: int,
                  since: datetime) -> int:
    """Queue for the endpoint every event since `since` that it takes and that has no
    successful delivery to it, failed and never queued alike; returns how many. Refused
    while the endpoint is inactive."""
    require(caller, Scope.WEBHOOKS_WRITE)
    now = now_utc()
    async with uow:
        endpoint = await _locked(uow, caller, endpoint_id, None, Lock.KEEP)
        check_deliverable(endpoint)
        queued = await uow.webhooks.recover(endpoint, since=since, now=now)
        if queued:
            await uow.webhooks.wake_workers()
        await uow.commit()
    return queued


def event_types(*, caller: Caller) -> list[tuple[str, str]]:
    """Every type of event, with what it means, by type."""
    require(caller, Scope.EVENTS_READ)
    return sorted(EVENT_TYPES.items())
