"""API keys: only a hash of the secret is kept."""

from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.access.organization import ApiKey, Organization
from salescore.domain.access.permissions import Scope
from salescore.domain.listing import ListQuery, Page
from salescore.repositories.access.auth_notices import notify_auth_change
from salescore.repositories.access.models import api_keys, organizations
from salescore.repositories.access.organizations import ORGANIZATION_COLUMNS, organization_of
from salescore.repositories.listing import fetch_page

_public = [c for c in api_keys.c if c.key != "secret_hash"]
# Built once: authentication runs it on every request the caller cache cannot answer.
_LIVE_WITH_ORGANIZATION = (
    select(*_public, *ORGANIZATION_COLUMNS)
    .join_from(api_keys, organizations, organizations.c.id == api_keys.c.organization_id)
    .where(api_keys.c.secret_hash == bindparam("secret_hash"),
           api_keys.c.revoked_at.is_(None))
)
LIST_COLUMNS: dict[str, ColumnElement[Any]] = {
    "id": api_keys.c.id, "name": api_keys.c.name, "created_at": api_keys.c.created_at,
    "revoked_at": api_keys.c.revoked_at,
}


def _to_domain(row: Any) -> ApiKey:
    return ApiKey(id=row.id, organization_id=row.organization_id, name=row.name,
                  prefix=row.prefix, scopes=frozenset(Scope(s) for s in row.scopes),
                  created_at=row.created_at, revoked_at=row.revoked_at)


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, organization_id: int, *, name: str, prefix: str, secret_hash: bytes,
                  scopes: list[str], created_by: int | None) -> ApiKey:
        stmt = insert(api_keys).values(
            organization_id=organization_id, name=name, prefix=prefix,
            secret_hash=secret_hash, scopes=scopes, created_by=created_by,
        ).returning(*_public)
        return _to_domain((await self._session.execute(stmt)).one())

    async def live_with_organization(self,
                                     secret_hash: bytes) -> tuple[Organization, ApiKey] | None:
        """The live (not revoked) key with this secret, in whichever organization, and that
        organization: one statement (authentication)."""
        row = (await self._session.execute(_LIVE_WITH_ORGANIZATION, {
            "secret_hash": secret_hash})).one_or_none()
        return None if row is None else (organization_of(row), _to_domain(row))

    async def notify_auth_change(self, organization_id: int) -> None:
        """On commit, every process forgets the callers it knows of this organization, so
        that a revoked key stops working at once everywhere."""
        await notify_auth_change(self._session, organization_id)

    async def get(self, organization_id: int, key_id: int) -> ApiKey | None:
        stmt = select(*_public).where(api_keys.c.organization_id == organization_id,
                                      api_keys.c.id == key_id)
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _to_domain(row)

    async def list(self, organization_id: int, query: ListQuery) -> Page[ApiKey]:
        stmt = select(*_public).where(api_keys.c.organization_id == organization_id)
        return await fetch_page(self._session, stmt, query, LIST_COLUMNS, api_keys.c.id,
                                _to_domain)

    async def revoke(self, organization_id: int, key_id: int) -> bool:
        """Revoke a live key; False when it was revoked already (perhaps just now, by a
        concurrent request)."""
        stmt = update(api_keys).where(
            api_keys.c.organization_id == organization_id, api_keys.c.id == key_id,
            api_keys.c.revoked_at.is_(None)).values(revoked_at=func.now()).returning(
            api_keys.c.id)
        return (await self._session.execute(stmt)).first() is not None
