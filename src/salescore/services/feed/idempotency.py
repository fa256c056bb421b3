"""Idempotent POSTs: the first answer to a key is kept 24 h and replayed for the same body.

A key is the caller's own, for one route: it is stored as a hash of the caller (the user
or the API key), the scopes the caller holds, the route (method and path) and the key the
client sent. Another caller, or the same caller on another route, sending that key makes
a request of its own; a caller whose role changed since the first answer is answered as
the route answers it now (a 403 if it may no longer call it), and a revoked key or a
deactivated user is refused (401) before any key is looked at. The same key with another
body is refused (422); while the first request still runs, a retry is told so (409). A
first attempt that failed with a server error releases its key, so that the retry runs
afresh."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from salescore.domain.access.permissions import Caller
from salescore.repositories.unit_of_work import UnitOfWork

LOCK = timedelta(seconds=60)


class Claim(Enum):
    NEW = "new"
    REPLAY = "replay"
    IN_FLIGHT = "in_flight"
    MISMATCH = "mismatch"


@dataclass(frozen=True, slots=True)
class Replay:
    status_code: int
    headers: dict[str, str]
    body: bytes


def stored_key(*, caller: Caller, route: str, key: str) -> str:
    """What a client's key is kept under: the SHA-256 of the caller, its scopes, the
    route and the client's key, so that no two of them ever share an answer."""
    parts = [caller.actor, sorted(caller.scopes), route, key]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


async def claim_key(uow: UnitOfWork, *, caller: Caller, route: str, key: str,
                    request_hash: bytes, ttl: timedelta) -> tuple[Claim, Replay | None]:
    """Take the caller's key on `route` for this request, or say what holds it already."""
    async with uow:
        held = await uow.idempotency.claim(caller.organization_id,
                                           stored_key(caller=caller, route=route, key=key),
                                           request_hash, lock_for=LOCK, ttl=ttl)
        await uow.commit()
    if held is None:
        return Claim.NEW, None
    if held.request_hash != request_hash:
        return Claim.MISMATCH, None
    if held.in_flight:
        return Claim.IN_FLIGHT, None
    assert held.status_code is not None
    return Claim.REPLAY, Replay(held.status_code, held.headers or {}, held.body or b"")


async def finish_key(uow: UnitOfWork, *, caller: Caller, route: str, key: str,
                     status_code: int, headers: dict[str, str], body: bytes) -> None:
    """Keep the answer, or let the key go when the server failed."""
    organization_id = caller.organization_id
    stored = stored_key(caller=caller, route=route, key=key)
    async with uow:
        if status_code >= 500:
            await uow.idempotency.release(organization_id, stored)
        else:
            await uow.idempotency.complete(organization_id, stored, status_code=status_code,
                                           headers=headers, body=body)
        await uow.commit()


async def purge_keys(uow: UnitOfWork, *, now: datetime, ttl: timedelta) -> None:
    async with uow:
        await uow.idempotency.purge(now - ttl)
        await uow.commit()
