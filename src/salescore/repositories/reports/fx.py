"""Converting amounts to the organization's base currency inside report queries."""

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, case, literal, select

from salescore.repositories.reports.models import exchange_rates as rates


def rate_on(organization_id: int | ColumnElement[int], base_currency: str | ColumnElement[str],
            currency: ColumnElement[str], fx_date: date | ColumnElement[date]
            ) -> ColumnElement[Any]:
    """The rate that turns an amount in `currency` into the base currency on `fx_date`:
    1 for the base currency itself, else the organization's latest rate valid from on or
    before that date, else NULL (no rate: the report lists such amounts as unconverted,
    never sums them). The organization, base currency and day are values, or parameters
    of a statement made for any of them."""
    latest = (select(rates.c.rate)
              .where(rates.c.organization_id == organization_id,
                     rates.c.currency == currency, rates.c.valid_from <= fx_date)
              .order_by(rates.c.valid_from.desc()).limit(1).scalar_subquery())
    base = base_currency if isinstance(base_currency, ColumnElement) else literal(base_currency)
    return case((currency == base, literal(1)), else_=latest)
