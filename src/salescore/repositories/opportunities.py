"""Opportunities and their sellers."""

from sqlalchemy.ext.asyncio import AsyncSession


class OpportunityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
