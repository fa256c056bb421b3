"""The organization's settings: base currency, time zone, whether losing an opportunity
needs a loss reason (off by default), the reminder task for new opportunities (on, due one
day after creation, by default) and the stagnant report's default number of days (30).

Everyone in the organization reads them; admins and managers (`sales_setup:write`) change
them. They carry no version: each setting is independent, so the last writer wins."""

from typing import Any

from salescore.domain.access.organization import Organization, check_currency, check_time_zone
from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.events import DomainEvent, changes
from salescore.repositories.unit_of_work import UnitOfWork

SETTINGS = ("base_currency", "time_zone", "loss_reason_required", "reminder_task_enabled",
            "reminder_task_days", "stagnant_days")


def _settings(organization: Organization) -> dict[str, Any]:
    return {name: getattr(organization, name) for name in SETTINGS}


async def get_settings(uow: UnitOfWork, *, caller: Caller) -> Organization:
    require(caller, Scope.ORGANIZATION_READ)
    async with uow:
        organization = await uow.organizations.get(caller.organization_id)
    assert organization is not None, "a caller's organization always exists"
    return organization


async def time_zone(uow: UnitOfWork, *, caller: Caller) -> str:
    """The zone the caller's organization reads dates in; any caller may use it to read
    its own input (no scope needed)."""
    async with uow:
        organization = await uow.organizations.get(caller.organization_id)
    assert organization is not None, "a caller's organization always exists"
    return organization.time_zone


async def update_settings(uow: UnitOfWork, *, caller: Caller,
                          values: dict[str, Any]) -> Organization:
    """Change the settings given; the event names what changed. Setting a value it has
    already writes nothing and records no event."""
    require(caller, Scope.SALES_SETUP_WRITE)
    if "base_currency" in values:
        check_currency(values["base_currency"], "base_currency")
    if "time_zone" in values:
        check_time_zone(values["time_zone"])
    org = caller.organization_id
    async with uow:
        await uow.organizations.lock(org)
        before = await uow.organizations.get(org)
        assert before is not None, "a caller's organization always exists"
        diff = changes(_settings(before), _settings(before) | values)
        if not diff:
            return before
        after = await uow.organizations.update_settings(org, values)
        uow.emit(org, caller.actor, DomainEvent(
            "organization.settings_changed", "organization", org, {"changes": diff}))
        if "base_currency" in diff:  # the one setting a cached caller shows (GET /v1/me)
            await uow.organizations.notify_auth_change(org)
        await uow.commit()
    return after
