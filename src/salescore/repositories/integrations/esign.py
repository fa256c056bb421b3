"""E-signature providers, their stored secrets, and the log of their callbacks."""

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.integrations.providers import (
    CallbackLog,
    EsignProvider,
    ProviderKind,
    StoredSecrets,
)
from salescore.domain.listing import ListQuery, Page
from salescore.repositories.integrations.models import esign_callbacks, esign_providers
from salescore.repositories.listing import fetch_page

p = esign_providers
c = esign_callbacks
_PUBLIC = [column for column in p.c if "secret" not in column.name]
PROVIDER_COLUMNS: dict[str, ColumnElement[Any]] = {
    "id": p.c.id, "kind": p.c.kind, "active": p.c.active, "created_at": p.c.created_at}
CALLBACK_COLUMNS: dict[str, ColumnElement[Any]] = {
    "id": c.c.id, "applied": c.c.applied, "verified": c.c.verified, "quote_id": c.c.quote_id,
    "received_at": c.c.received_at}


def _provider(row: Any) -> EsignProvider:
    return EsignProvider(id=row.id, organization_id=row.organization_id, name=row.name,
                         kind=ProviderKind(row.kind), active=row.active,
                         created_at=row.created_at, updated_at=row.updated_at,
                         version=row.version)


def _secrets(row: Any) -> StoredSecrets:
    return StoredSecrets(row.secret_encrypted, row.previous_secret_encrypted,
                         row.previous_secret_expires_at)


def _callback(row: Any) -> CallbackLog:
    return CallbackLog(**{column.key: getattr(row, column.key) for column in c.c})


class EsignRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @staticmethod
    def _mine(organization_id: int) -> ColumnElement[bool]:
        return p.c.organization_id == organization_id

    async def add(self, organization_id: int, values: dict[str, Any]) -> EsignProvider:
        stmt = insert(p).values(organization_id=organization_id, **values).returning(*_PUBLIC)
        return _provider((await self._session.execute(stmt)).one())

    async def get(self, organization_id: int, provider_id: int, *,
                  for_update: bool = False) -> EsignProvider | None:
        stmt = select(*_PUBLIC).where(self._mine(organization_id), p.c.id == provider_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _provider(row)

    async def with_secrets(self, provider_id: int) -> tuple[EsignProvider, StoredSecrets] | None:
        """The provider a callback's address names, in whichever organization (the
        signature is the credential), with its secrets."""
        row = (await self._session.execute(select(p).where(p.c.id == provider_id))
               ).one_or_none()
        return None if row is None else (_provider(row), _secrets(row))

    async def list(self, organization_id: int, query: ListQuery) -> Page[EsignProvider]:
        stmt = select(*_PUBLIC).where(self._mine(organization_id))
        return await fetch_page(self._session, stmt, query, PROVIDER_COLUMNS, p.c.id,
                                _provider)

    async def update(self, organization_id: int, provider_id: int,
                     values: dict[str, Any]) -> EsignProvider:
        stmt = (update(p).where(self._mine(organization_id), p.c.id == provider_id)
                .values(**values, version=p.c.version + 1, updated_at=func.now())
                .returning(*_PUBLIC))
        return _provider((await self._session.execute(stmt)).one())

    async def rotate(self, organization_id: int, provider_id: int, new_secret: str,
                     previous_until: datetime) -> EsignProvider:
        """The new secret in place; the one it replaces stays valid until `previous_until`."""
        return await self.update(organization_id, provider_id, {
            "previous_secret_encrypted": p.c.secret_encrypted,
            "previous_secret_expires_at": previous_until, "secret_encrypted": new_secret})

    async def delete(self, organization_id: int, provider_id: int) -> None:
        await self._session.execute(delete(p).where(self._mine(organization_id),
                                                    p.c.id == provider_id))

    async def log(self, organization_id: int, values: dict[str, Any]) -> CallbackLog | None:
        """Log a callback; None when a verified one with the same delivery id is logged
        already (waiting for a concurrent delivery of it to commit or roll back)."""
        stmt = insert(c).values(organization_id=organization_id, **values)
        if values.get("verified"):
            stmt = stmt.on_conflict_do_nothing(
                index_elements=[c.c.organization_id, c.c.provider_id, c.c.webhook_id],
                index_where=c.c.verified)
        row = (await self._session.execute(stmt.returning(*c.c))).one_or_none()
        return None if row is None else _callback(row)

    async def settle(self, organization_id: int, callback_id: int, *, applied: bool,
                     reason: str | None) -> None:
        await self._session.execute(
            update(c).where(c.c.organization_id == organization_id, c.c.id == callback_id)
            .values(applied=applied, reason=reason))

    async def callbacks(self, organization_id: int, provider_id: int,
                        query: ListQuery) -> Page[CallbackLog]:
        stmt = select(c).where(c.c.organization_id == organization_id,
                               c.c.provider_id == provider_id)
        return await fetch_page(self._session, stmt, query, CALLBACK_COLUMNS, c.c.id,
                                _callback)
