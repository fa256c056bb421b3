"""Idempotency keys: the first answer to a POST, kept per organization and stored key (the
use case's hash of the caller, route and client's key)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.repositories.feed.models import idempotency_keys as keys


@dataclass(frozen=True, slots=True)
class StoredRequest:
    request_hash: bytes
    status_code: int | None
    headers: dict[str, str] | None
    body: bytes | None
    in_flight: bool


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, organization_id: int, key: str, request_hash: bytes, *,
                    lock_for: timedelta, ttl: timedelta) -> StoredRequest | None:
        """Take the key for this request; None when taken, else what holds it already.

        A key whose holder never finished (its lock ran out) or that outlived `ttl` is
        taken over."""
        stale = (keys.c.created_at < func.now() - ttl) | (
            keys.c.status_code.is_(None) & (keys.c.locked_until < func.now()))
        insert = pg_insert(keys).values(
            organization_id=organization_id, key=key, request_hash=request_hash,
            locked_until=func.now() + lock_for)
        stmt = insert.on_conflict_do_update(
            index_elements=[keys.c.organization_id, keys.c.key],
            set_={"request_hash": insert.excluded.request_hash, "status_code": None,
                  "response_headers": None, "response_body": None,
                  "created_at": func.now(), "locked_until": insert.excluded.locked_until},
            where=stale,
        ).returning(keys.c.key)
        if (await self._session.execute(stmt)).first() is not None:
            return None
        row = (await self._session.execute(select(keys).where(
            keys.c.organization_id == organization_id, keys.c.key == key))).one()
        return StoredRequest(row.request_hash, row.status_code, row.response_headers,
                             row.response_body, row.status_code is None)

    async def complete(self, organization_id: int, key: str, *, status_code: int,
                       headers: dict[str, str], body: bytes) -> None:
        await self._session.execute(update(keys).where(
            keys.c.organization_id == organization_id, keys.c.key == key).values(
            status_code=status_code, response_headers=headers, response_body=body))

    async def release(self, organization_id: int, key: str) -> None:
        await self._session.execute(delete(keys).where(
            keys.c.organization_id == organization_id, keys.c.key == key))

    async def purge(self, older_than: datetime) -> None:
        await self._session.execute(delete(keys).where(keys.c.created_at < older_than))


