"""Every record a request names must be the organization's; another organization's looks
exactly like none at all: a 404 problem naming the field."""

from typing import Any

from salescore.domain.access.organization import Organization
from salescore.domain.errors import NotFound
from salescore.repositories.unit_of_work import UnitOfWork

RESOURCE_OF_FIELD = {"owner_id": "user", "user_id": "user", "assignee_id": "user",
                     "customer_id": "customer", "contact_id": "contact",
                     "type_id": "opportunity type", "source_id": "source",
                     "campaign_id": "campaign", "loss_reason_id": "loss reason",
                     "opportunity_id": "opportunity"}


async def check_references(uow: UnitOfWork, organization_id: int,
                           values: dict[str, Any]) -> None:
    _refuse(await uow.references.missing(organization_id, values))


async def organization_checking(uow: UnitOfWork, organization_id: int,
                                values: dict[str, Any]) -> Organization:
    """The organization, with the references in `values` checked in the same round trip."""
    organization, missing = await uow.references.organization_and_missing(organization_id,
                                                                          values)
    assert organization is not None, "a caller's organization always exists"
    _refuse(missing)
    return organization


def _refuse(missing: str | None) -> None:
    if missing is not None:
        raise NotFound(RESOURCE_OF_FIELD[missing], field=missing)
