"""Idempotent POSTs: the first answer to a key is kept 24 h and replayed for the same body.

A key is per organization. The same key with another body is refused (422); while the first
request still runs, a retry is told so (409). A first attempt that failed with a server
error releases its key, so that the retry runs afresh."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

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


async def claim_key(uow: UnitOfWork, *, organization_id: int, key: str, request_hash: bytes,
                    ttl: timedelta) -> tuple[Claim, Replay | None]:
    async with uow:
        held = await uow.idempotency.claim(organization_id, key, request_hash,
                                           lock_for=LOCK, ttl=ttl)
        await uow.commit()
    if held is None:
        return Claim.NEW, None
    if held.request_hash != request_hash:
        return Claim.MISMATCH, None
    if held.in_flight:
        return Claim.IN_FLIGHT, None
    assert held.status_code is not None
    return Claim.REPLAY, Replay(held.status_code, held.headers or {}, held.body or b"")


async def finish_key(uow: UnitOfWork, *, organization_id: int, key: str,
                     status_code: int, headers: dict[str, str], body: bytes) -> None:
    """Keep the answer, or let the key go when the server failed."""
    async with uow:
        if status_code >= 500:
            await uow.idempotency.release(organization_id, key)
        else:
            await uow.idempotency.complete(organization_id, key, status_code=status_code,
                                           headers=headers, body=body)
        await uow.commit()


async def purge_keys(uow: UnitOfWork, *, now: datetime, ttl: timedelta) -> None:
    async with uow:
        await uow.idempotency.purge(now - ttl)
        await uow.commit()
