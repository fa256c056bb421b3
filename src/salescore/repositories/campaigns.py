"""Campaigns."""

from sqlalchemy.ext.asyncio import AsyncSession


class CampaignRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
