"""Campaigns: the marketing efforts opportunities come from.

Admins and managers (`sales_setup:write`) keep them; everyone who reads opportunities reads
them. Names need not be unique (a campaign may run again under the same name). A campaign
that opportunities came from cannot be deleted: deactivate it instead."""

from datetime import date
from typing import Any

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import Conflict, NotFound, check_version
from salescore.domain.events import DomainEvent, changes, unchanged
from salescore.domain.listing import ListQuery, Page
from salescore.domain.sales.campaigns import Campaign, check_period
from salescore.repositories.unit_of_work import UnitOfWork


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _public(campaign: Campaign) -> dict[str, Any]:
    return {"name": campaign.name, "starts_on": _iso(campaign.starts_on),
            "ends_on": _iso(campaign.ends_on), "active": campaign.active}


async def create_campaign(uow: UnitOfWork, *, caller: Caller, name: str,
                          starts_on: date | None = None, ends_on: date | None = None,
                          active: bool = True) -> Campaign:
    require(caller, Scope.SALES_SETUP_WRITE)
    check_period(starts_on, ends_on)
    async with uow:
        campaign = await uow.campaigns.add(caller.organization_id, {
            "name": name, "starts_on": starts_on, "ends_on": ends_on, "active": active})
        uow.emit(caller.organization_id, caller.actor, DomainEvent(
            "campaign.created", "campaign", campaign.id, _public(campaign)))
        await uow.commit()
    return campaign


async def get_campaign(uow: UnitOfWork, *, caller: Caller, campaign_id: int) -> Campaign:
    require(caller, Scope.OPPORTUNITIES_READ)
    async with uow.reading():
        campaign = await uow.campaigns.get(caller.organization_id, campaign_id)
    if campaign is None:
        raise NotFound("campaign")
    return campaign


async def list_campaigns(uow: UnitOfWork, *, caller: Caller,
                         query: ListQuery) -> Page[Campaign]:
    require(caller, Scope.OPPORTUNITIES_READ)
    async with uow:
        return await uow.campaigns.list(caller.organization_id, query)


async def update_campaign(uow: UnitOfWork, *, caller: Caller, campaign_id: int,
                          values: dict[str, Any], if_match: int | None = None) -> Campaign:
    """Change the fields given; the period they leave must still end on or after its
    start."""
    require(caller, Scope.SALES_SETUP_WRITE)
    org = caller.organization_id
    async with uow:
        await uow.campaigns.lock(org, campaign_id)
        before = await uow.campaigns.get(org, campaign_id)
        if before is None:
            raise NotFound("campaign")
        check_version(before.version, if_match)
        check_period(values.get("starts_on", before.starts_on),
                     values.get("ends_on", before.ends_on))
        after = await uow.campaigns.update(org, campaign_id, values)
        if unchanged(before, after):
            return before  # nothing to keep: leaving uncommitted rolls the version back
        uow.emit(org, caller.actor, DomainEvent(
            "campaign.updated", "campaign", campaign_id,
            {"changes": changes(_public(before), _public(after))}))
        await uow.commit()
    return after


async def delete_campaign(uow: UnitOfWork, *, caller: Caller, campaign_id: int,
                          if_match: int | None = None) -> None:
    """Remove a campaign no opportunity came from."""
    require(caller, Scope.SALES_SETUP_WRITE)
    org = caller.organization_id
    async with uow:
        await uow.campaigns.lock(org, campaign_id)
        campaign = await uow.campaigns.get(org, campaign_id)
        if campaign is None:
            raise NotFound("campaign")
        check_version(campaign.version, if_match)
        if await uow.campaigns.in_use(org, campaign_id):
            raise Conflict("opportunities came from this campaign; deactivate it instead "
                           "(PATCH active=false)")
        await uow.campaigns.delete(org, campaign_id)
        uow.emit(org, caller.actor, DomainEvent("campaign.deleted", "campaign", campaign_id,
                                                _public(campaign)))
        await uow.commit()
