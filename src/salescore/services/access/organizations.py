"""Setting up a tenant."""

from dataclasses import dataclass

from salescore.domain.access.organization import (
    Organization,
    check_currency,
    check_email,
    initials_of,
)
from salescore.domain.access.permissions import ALL_SCOPES, Caller, Role
from salescore.domain.events import DomainEvent
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.access.credentials import hash_password, new_api_key


@dataclass(frozen=True, slots=True)
class NewOrganization:
    organization: Organization
    admin_user_id: int
    api_key: str


async def create_organization(uow: UnitOfWork, *, name: str, admin_email: str,
                              admin_password: str, currency: str = "NOK",
                              time_zone: str = "Europe/Oslo") -> NewOrganization:
    """A new organization with its first admin user and an API key holding every scope."""
    check_currency(currency)
    check_email(admin_email, "admin_email")
    admin_name = admin_email.split("@")[0]
    async with uow:
        organization = await uow.organizations.add(
            name=name, base_currency=currency, time_zone=time_zone)
        admin_id = await uow.users.add(organization.id, values={
            "name": admin_name, "initials": initials_of(admin_name), "email": admin_email,
            "password_hash": hash_password(admin_password), "role": Role.ADMIN.value,
        }, sales_group_ids=())
        secret, prefix, secret_hash = new_api_key()
        key = await uow.api_keys.add(organization.id, name="initial", prefix=prefix,
                                     secret_hash=secret_hash,
                                     scopes=sorted(s.value for s in ALL_SCOPES),
                                     created_by=admin_id)
        actor = Caller(organization.id, Role.ADMIN, ALL_SCOPES, user_id=admin_id).actor
        uow.emit(organization.id, actor,
                 DomainEvent("organization.created", "organization", organization.id,
                             {"name": name, "base_currency": currency}),
                 DomainEvent("user.created", "user", admin_id,
                             {"email": admin_email, "role": Role.ADMIN.value}),
                 DomainEvent("api_key.created", "api_key", key.id, {"name": key.name}))
        await uow.commit()
    return NewOrganization(organization, admin_id, secret)
