"""Customers and their contacts."""

from sqlalchemy.ext.asyncio import AsyncSession


class CustomerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session


class ContactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
