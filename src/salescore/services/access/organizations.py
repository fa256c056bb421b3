"""Setting up a tenant."""

from dataclasses import dataclass

from salescore.domain.access.organization import (
    Organization,
    check_admin_email_free,
    check_currency,
    check_email,
    initials_of,
)
from salescore.domain.access.permissions import ALL_SCOPES, Caller, Role
from salescore.domain.events import DomainEvent
from salescore.domain.sales.starter import StarterSetup
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.access.credentials import hash_password, new_api_key
from salescore.services.sales.lists import add_item
from salescore.services.sales.processes import add_process


@dataclass(frozen=True, slots=True)
class NewOrganization:
    organization: Organization
    admin_user_id: int
    api_key: str


async def create_organization(uow: UnitOfWork, *, name: str, admin_email: str,
                              admin_password: str, currency: str = "NOK",
                              time_zone: str = "Europe/Oslo",
                              starter: StarterSetup | None = None,
                              allow_shared_email: bool = True) -> NewOrganization:
    """A new organization with its first admin user and an API key holding every scope,
    and, given a `starter`, the sales process and lists it starts with, made by the admin;
    all in one transaction. Unless `allow_shared_email`, the admin's e-mail must be no
    other organization's user's."""
    check_currency(currency)
    check_email(admin_email, "admin_email")
    admin_name = admin_email.split("@")[0]
    password_hash = await hash_password(admin_password)
    async with uow:
        if not allow_shared_email:
            check_admin_email_free(admin_email, used_elsewhere=(
                await uow.users.email_in_any_organization(admin_email)))
        organization = await uow.organizations.add(
            name=name, base_currency=currency, time_zone=time_zone)
        admin_id = await uow.users.add(organization.id, values={
            "name": admin_name, "initials": initials_of(admin_name), "email": admin_email,
            "password_hash": password_hash, "role": Role.ADMIN.value,
        }, sales_group_ids=())
        secret, prefix, secret_hash = new_api_key()
        key = await uow.api_keys.add(organization.id, name="initial", prefix=prefix,
                                     secret_hash=secret_hash,
                                     scopes=sorted(s.value for s in ALL_SCOPES),
                                     created_by=admin_id)
        admin = Caller(organization.id, Role.ADMIN, ALL_SCOPES, user_id=admin_id)
        uow.emit(organization.id, admin.actor,
                 DomainEvent("organization.created", "organization", organization.id,
                             {"name": name, "base_currency": currency}),
                 DomainEvent("user.created", "user", admin_id,
                             {"email": admin_email, "role": Role.ADMIN.value}),
                 DomainEvent("api_key.created", "api_key", key.id, {"name": key.name}))
        if starter is not None:
            await _set_up(uow, admin, starter)
        await uow.commit()
    return NewOrganization(organization, admin_id, secret)


async def _set_up(uow: UnitOfWork, admin: Caller, starter: StarterSetup) -> None:
    """The starter's process and lists, made as the admin makes them through the API."""
    await add_process(uow, caller=admin, name=starter.process_name, stages=starter.stages,
                      default_for=starter.default_for)
    for kind, names in starter.lists.items():
        for item_name in names:
            await add_item(uow, caller=admin, kind=kind, name=item_name)

