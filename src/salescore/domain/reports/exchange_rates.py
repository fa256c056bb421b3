"""Exchange rates: what one unit of a foreign currency is worth in the organization's base
currency, from a date on (DOMAIN.md §8: reports convert with the organization's rates)."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from salescore.domain.access.organization import check_currency
from salescore.domain.errors import InvalidInput

RATE_DECIMALS = 10
MAX_RATE = 10**10


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    id: int
    organization_id: int
    currency: str
    rate: Decimal
    valid_from: date
    created_at: datetime
    updated_at: datetime
    version: int


def check_rate_currency(currency: str, base_currency: str) -> str:
    """A rate is for an ISO 4217 currency other than the base currency, which is worth 1
    by definition."""
    check_currency(currency)
    if currency == base_currency:
        raise InvalidInput.of("currency", f"is the organization's base currency "
                                          f"({base_currency}), which needs no rate")
    return currency


def check_rate(rate: Decimal) -> Decimal:
    """A rate is a positive number below 10^10 with at most ten decimals; more decimals
    are refused, never rounded."""
    if not rate.is_finite() or rate <= 0:
        raise InvalidInput.of("rate", "must be greater than 0")
    if rate >= MAX_RATE:
        raise InvalidInput.of("rate", f"must be below {MAX_RATE:,}")
    if rate != rate.quantize(Decimal(1).scaleb(-RATE_DECIMALS)):
        raise InvalidInput.of("rate", f"must have at most {RATE_DECIMALS} decimals")
    return rate


def rate_text(rate: Decimal) -> str:
    """A rate as plain decimal text without trailing zeros ("10.5", "0.0912")."""
    text = format(rate, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
