"""API keys for integrations: created with scopes, shown once, revocable."""

from collections.abc import Iterable

from salescore.domain.access.organization import ApiKey
from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import Forbidden, NotFound
from salescore.domain.events import DomainEvent
from salescore.domain.listing import ListQuery, Page
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.access.credentials import new_api_key


async def create_api_key(uow: UnitOfWork, *, caller: Caller, name: str,
                         scopes: Iterable[Scope]) -> tuple[ApiKey, str]:
    """A new key and its secret; only the hash of the secret is kept. A key never gets a
    scope its maker lacks, so that a key allowed to make keys cannot widen its own reach."""
    require(caller, Scope.API_KEYS_WRITE)
    scopes = frozenset(scopes)
    beyond = sorted(scopes - caller.scopes)
    if beyond:
        raise Forbidden(f"cannot grant scopes the caller does not hold: {', '.join(beyond)}")
    secret, prefix, secret_hash = new_api_key()
    async with uow:
        key = await uow.api_keys.add(
            caller.organization_id, name=name, prefix=prefix, secret_hash=secret_hash,
            scopes=sorted({s.value for s in scopes}), created_by=caller.user_id)
        uow.emit(caller.organization_id, caller.actor, DomainEvent(
            "api_key.created", "api_key", key.id,
            {"name": name, "scopes": sorted(s.value for s in key.scopes)}))
        await uow.commit()
    return key, secret


async def list_api_keys(uow: UnitOfWork, *, caller: Caller, query: ListQuery) -> Page[ApiKey]:
    require(caller, Scope.API_KEYS_WRITE)
    async with uow:
        return await uow.api_keys.list(caller.organization_id, query)


async def revoke_api_key(uow: UnitOfWork, *, caller: Caller, key_id: int) -> None:
    """Revoke a key: it stops working at once; revoking twice is harmless."""
    require(caller, Scope.API_KEYS_WRITE)
    async with uow:
        key = await uow.api_keys.get(caller.organization_id, key_id)
        if key is None:
            raise NotFound("api key")
        if await uow.api_keys.revoke(caller.organization_id, key_id):
            uow.emit(caller.organization_id, caller.actor,
                     DomainEvent("api_key.revoked", "api_key", key_id, {"name": key.name}))
            await uow.api_keys.notify_auth_change(caller.organization_id)
        await uow.commit()
