"""Users (employees) with their sales groups."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.access.organization import Organization, UnitKind, User
from salescore.domain.access.permissions import Role
from salescore.domain.listing import ListQuery, Page
from salescore.repositories.access.auth_notices import notify_auth_change
from salescore.repositories.access.models import organizations, users
from salescore.repositories.access.models import user_sales_groups as memberships
from salescore.repositories.access.organizations import ORGANIZATION_COLUMNS, organization_of
from salescore.repositories.database import unique_or_conflict
from salescore.repositories.listing import fetch_page

_group_ids = (
    select(func.coalesce(
        func.array_agg(aggregate_order_by(memberships.c.sales_group_id,
                                          memberships.c.sales_group_id)),
        [],
    ))
    .where(memberships.c.organization_id == users.c.organization_id,
           memberships.c.user_id == users.c.id)
    .scalar_subquery()
    .label("sales_group_ids")
)
_user_columns = [c for c in users.c if c.key != "password_hash"]
# Built once: authentication runs it on every request the caller cache cannot answer.
_ACTIVE_WITH_ORGANIZATION = (
    select(*_user_columns, _group_ids, *ORGANIZATION_COLUMNS)
    .join_from(users, organizations, organizations.c.id == users.c.organization_id)
    .where(users.c.organization_id == bindparam("organization_id"),
           users.c.id == bindparam("user_id"), users.c.active)
)
LIST_COLUMNS: dict[str, ColumnElement[Any]] = {
    "id": users.c.id, "name": users.c.name, "email": users.c.email,
    "initials": users.c.initials, "role": users.c.role, "active": users.c.active,
    "department_id": users.c.department_id, "sales_region_id": users.c.sales_region_id,
    "created_at": users.c.created_at, "updated_at": users.c.updated_at,
}


def _to_domain(row: Any) -> User:
    return User(
        id=row.id, organization_id=row.organization_id, name=row.name, initials=row.initials,
        email=row.email, role=Role(row.role), department_id=row.department_id,
        sales_region_id=row.sales_region_id, sales_group_ids=tuple(row.sales_group_ids),
        active=row.active, created_at=row.created_at, updated_at=row.updated_at,
        version=row.version,
    )


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _select(self, organization_id: int) -> Any:
        return select(*_user_columns, _group_ids).where(
            users.c.organization_id == organization_id)

    async def get(self, organization_id: int, user_id: int) -> User | None:
        stmt = self._select(organization_id).where(users.c.id == user_id)
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _to_domain(row)

    async def lock(self, organization_id: int, user_id: int) -> None:
        """Hold the user's row until the transaction ends, so that a read-check-write
        (`If-Match`) cannot interleave with another writer's."""
        await self._session.execute(select(users.c.id).where(
            users.c.organization_id == organization_id, users.c.id == user_id
        ).with_for_update())

    async def list(self, organization_id: int, query: ListQuery) -> Page[User]:
        return await fetch_page(self._session, self._select(organization_id), query,
                                LIST_COLUMNS, users.c.id, _to_domain)

    async def email_taken(self, organization_id: int, email: str,
                          except_id: int | None = None) -> bool:
        stmt = select(users.c.id).where(
            users.c.organization_id == organization_id,
            func.lower(users.c.email) == email.lower(),
            users.c.id.is_distinct_from(except_id),
        )
        return (await self._session.execute(stmt)).first() is not None

    async def email_in_any_organization(self, email: str) -> bool:
        """Some user of any organization, active or not, has `email` (in any case)."""
        stmt = select(users.c.id).where(func.lower(users.c.email) == email.lower()).limit(1)
        return (await self._session.execute(stmt)).first() is not None

    async def logins(self, email: str) -> Sequence[tuple[int, int, str]]:
        """(organization id, user id, password hash) of every active user with `email`."""
        stmt = select(users.c.organization_id, users.c.id, users.c.password_hash).where(
            func.lower(users.c.email) == email.lower(), users.c.active,
            users.c.password_hash.is_not(None))
        return [(r.organization_id, r.id, r.password_hash)
                for r in (await self._session.execute(stmt)).all()]

    async def active_with_organization(self, organization_id: int,
                                       user_id: int) -> tuple[Organization, User] | None:
        """An active user and their organization, in one statement (authentication)."""
        row = (await self._session.execute(_ACTIVE_WITH_ORGANIZATION, {
            "organization_id": organization_id, "user_id": user_id})).one_or_none()
        return None if row is None else (organization_of(row), _to_domain(row))

    async def members_of(self, organization_id: int, kind: UnitKind,
                         unit_id: int) -> Sequence[User]:
        """The users in a department, sales region or sales group, by id."""
        member: ColumnElement[bool]
        if kind is UnitKind.SALES_GROUP:
            member = users.c.id.in_(select(memberships.c.user_id).where(
                memberships.c.organization_id == organization_id,
                memberships.c.sales_group_id == unit_id))
        else:
            column = users.c.department_id if kind is UnitKind.DEPARTMENT \
                else users.c.sales_region_id
            member = column == unit_id
        stmt = self._select(organization_id).where(member).order_by(users.c.id)
        return [_to_domain(row) for row in await self._session.execute(stmt)]

    async def touch(self, organization_id: int, user_ids: Sequence[int]) -> Sequence[User]:
        """A new version of each user, for a change the database made (a unit deleted):
        the users as they are now, by id."""
        await self._session.execute(update(users).where(
            users.c.organization_id == organization_id, users.c.id.in_(user_ids),
        ).values(version=users.c.version + 1, updated_at=func.now()))
        stmt = self._select(organization_id).where(users.c.id.in_(user_ids)).order_by(
            users.c.id)
        return [_to_domain(row) for row in await self._session.execute(stmt)]

    async def notify_auth_change(self, organization_id: int) -> None:
        """On commit, every process forgets the callers it knows of this organization: a
        user's role, activity, name or email is part of who they are when they call."""
        await notify_auth_change(self._session, organization_id)

    async def add(self, organization_id: int, *, values: dict[str, Any],
                  sales_group_ids: Sequence[int]) -> int:
        stmt = insert(users).values(organization_id=organization_id, **values).returning(
            users.c.id)
        async with unique_or_conflict(f"a user with the email {values['email']} exists already"):
            user_id: int = (await self._session.execute(stmt)).scalar_one()
        await self.set_sales_groups(organization_id, user_id, sales_group_ids)
        return user_id

    async def update(self, organization_id: int, user_id: int, values: dict[str, Any]) -> None:
        stmt = update(users).where(users.c.organization_id == organization_id,
                                   users.c.id == user_id).values(
            **values, version=users.c.version + 1, updated_at=func.now())
        async with unique_or_conflict(f"a user with the email {values.get('email')} exists "
                                      "already"):
            await self._session.execute(stmt)

    async def set_sales_groups(self, organization_id: int, user_id: int,
                               sales_group_ids: Sequence[int]) -> None:
        await self._session.execute(delete(memberships).where(
            memberships.c.organization_id == organization_id,
            memberships.c.user_id == user_id))
        if sales_group_ids:
            await self._session.execute(insert(memberships), [
                {"organization_id": organization_id, "user_id": user_id, "sales_group_id": g}
                for g in dict.fromkeys(sales_group_ids)])
