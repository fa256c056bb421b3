"""Exports of the opportunities list (services/exports.py streams them)."""

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.listing import ListQuery
from salescore.repositories.sales.exports import opportunity_export
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.exports import Export


def export_opportunities(uow: UnitOfWork, *, caller: Caller, query: ListQuery) -> Export:
    """Every opportunity the list's filters pick, in its order: what the list shows."""
    require(caller, Scope.OPPORTUNITIES_READ)
    return Export(uow, opportunity_export(caller.organization_id, query))
