"""Exports of the customers list (services/exports.py streams them)."""

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.listing import ListQuery
from salescore.repositories.customers.exports import customer_export
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.exports import Export


def export_customers(uow: UnitOfWork, *, caller: Caller, query: ListQuery) -> Export:
    """Every customer the list's filters pick, in its order: what the list shows."""
    require(caller, Scope.CUSTOMERS_READ)
    return Export(uow, customer_export(caller.organization_id, query))
