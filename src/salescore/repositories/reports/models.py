"""Typed table models of exchange rates (migration 0004)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Numeric, Text
from sqlalchemy.orm import Mapped, mapped_column

from salescore.repositories.models import Base, identity_key, table_of, tenant_key


class ExchangeRateRow(Base):
    """How many units of the organization's base currency one unit of `currency` is worth,
    from `valid_from` until the next rate of that currency (migration 0004)."""

    __tablename__ = "exchange_rates"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    currency: Mapped[str] = mapped_column(Text)
    rate: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    valid_from: Mapped[date]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int]


exchange_rates = table_of(ExchangeRateRow)
