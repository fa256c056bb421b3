"""Opportunity types, sources and loss reasons: three tables of one shape."""

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.lists import ListKind
from salescore.repositories.sales_models import loss_reasons, opportunity_types, sources

TABLES: dict[ListKind, Table] = {
    ListKind.OPPORTUNITY_TYPE: opportunity_types,
    ListKind.SOURCE: sources,
    ListKind.LOSS_REASON: loss_reasons,
}


class ListRepository:
    def __init__(self, session: AsyncSession, kind: ListKind) -> None:
        self._session = session
        self._kind = kind
        self._table = TABLES[kind]
