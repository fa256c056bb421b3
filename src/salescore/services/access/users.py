"""Employees: admins, managers and sellers."""

from collections.abc import Sequence
from typing import Any

from salescore.domain.access.organization import (
    UnitKind,
    User,
    check_email,
    check_user_role,
    initials_of,
)
from salescore.domain.access.permissions import Caller, Role, Scope, require
from salescore.domain.errors import Conflict, NotFound, check_version
from salescore.domain.events import DomainEvent, changes, unchanged
from salescore.domain.listing import ListQuery, Page
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.access.credentials import hash_password

_REFERENCES = (("department_id", UnitKind.DEPARTMENT), ("sales_region_id", UnitKind.SALES_REGION))


async def _check_references(uow: UnitOfWork, organization_id: int, values: dict[str, Any],
                            sales_group_ids: Sequence[int] | None) -> None:
    for field, kind in _REFERENCES:
        unit_id = values.get(field)
        if unit_id is not None and await uow.org_units(kind).missing(organization_id,
                                                                     [unit_id]):
            raise NotFound(kind.value.replace("_", " "), field=field)
    if sales_group_ids and await uow.org_units(UnitKind.SALES_GROUP).missing(
            organization_id, sales_group_ids):
        raise NotFound("sales group", field="sales_group_ids")


async def _check_email_free(uow: UnitOfWork, organization_id: int, email: str,
                            except_id: int | None = None) -> None:
    if await uow.users.email_taken(organization_id, email, except_id):
        raise Conflict(f"a user with the email {email} exists already")


def _public(user: User) -> dict[str, Any]:
    return {"name": user.name, "initials": user.initials, "email": user.email,
            "role": user.role.value, "department_id": user.department_id,
            "sales_region_id": user.sales_region_id,
            "sales_group_ids": list(user.sales_group_ids), "active": user.active}


def user_updated(before: User, after: User, *, password: bool = False) -> DomainEvent:
    """`user.updated` with what changed; a new password shows as changed, never its value."""
    diff = changes(_public(before), _public(after))
    if password:
        diff["password"] = {"from": None, "to": None}
    return DomainEvent("user.updated", "user", after.id, {"changes": diff})


async def create_user(uow: UnitOfWork, *, caller: Caller, name: str, email: str, role: Role,
                      password: str | None = None, initials: str | None = None,
                      department_id: int | None = None, sales_region_id: int | None = None,
                      sales_group_ids: Sequence[int] = (), active: bool = True) -> User:
    """A new employee; initials default to the first letters of the name."""
    require(caller, Scope.USERS_WRITE)
    check_email(email)
    check_user_role(role)
    values: dict[str, Any] = {
        "name": name, "initials": initials or initials_of(name), "email": email,
        "role": role.value, "department_id": department_id,
        "sales_region_id": sales_region_id, "active": active,
        "password_hash": None if password is None else await hash_password(password),
    }
    async with uow:
        org = caller.organization_id
        await _check_references(uow, org, values, sales_group_ids)
        await _check_email_free(uow, org, email)
        user_id = await uow.users.add(org, values=values, sales_group_ids=sales_group_ids)
        user = await uow.users.get(org, user_id)
        assert user is not None
        uow.emit(org, caller.actor, DomainEvent("user.created", "user", user.id, _public(user)))
        await uow.commit()
    return user


async def get_user(uow: UnitOfWork, *, caller: Caller, user_id: int) -> User:
    require(caller, Scope.USERS_READ)
    async with uow.reading():
        user = await uow.users.get(caller.organization_id, user_id)
    if user is None:
        raise NotFound("user")
    return user


async def list_users(uow: UnitOfWork, *, caller: Caller, query: ListQuery) -> Page[User]:
    require(caller, Scope.USERS_READ)
    async with uow:
        return await uow.users.list(caller.organization_id, query)


async def update_user(uow: UnitOfWork, *, caller: Caller, user_id: int,
                      changes_: dict[str, Any], if_match: int | None = None) -> User:
    """Change the given fields; a new password is hashed, a new email must be free."""
    require(caller, Scope.USERS_WRITE)
    values = dict(changes_)
    sales_group_ids = values.pop("sales_group_ids", None)
    if "email" in values:
        check_email(values["email"])
    if "role" in values:
        values["role"] = check_user_role(Role(values["role"])).value
    if "password" in values:
        values["password_hash"] = await hash_password(values.pop("password"))
    async with uow:
        org = caller.organization_id
        await uow.users.lock(org, user_id)
        before = await uow.users.get(org, user_id)
        if before is None:
            raise NotFound("user")
        check_version(before.version, if_match)
        await _check_references(uow, org, values, sales_group_ids)
        if "email" in values:
            await _check_email_free(uow, org, values["email"], except_id=user_id)
        await uow.users.update(org, user_id, values)
        if sales_group_ids is not None:
            await uow.users.set_sales_groups(org, user_id, sales_group_ids)
        after = await uow.users.get(org, user_id)
        assert after is not None
        if unchanged(before, after) and "password_hash" not in values:
            return before  # nothing to keep: leaving uncommitted rolls the version back
        uow.emit(org, caller.actor, user_updated(before, after,
                                                 password="password_hash" in values))
        await uow.users.notify_auth_change(org)  # role, activity: at once, in every process
        await uow.commit()
    return after
