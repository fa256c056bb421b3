"""Exports of the activities list (services/exports.py streams them)."""

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.listing import ListQuery
from salescore.repositories.activities.exports import activity_export
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.exports import Export


def export_activities(uow: UnitOfWork, *, caller: Caller, query: ListQuery) -> Export:
    """Every activity the list's filters pick, in its order: what the list shows."""
    require(caller, Scope.ACTIVITIES_READ)
    return Export(uow, activity_export(caller.organization_id, query))
