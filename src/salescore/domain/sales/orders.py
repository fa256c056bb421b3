"""Orders an ERP made from an opportunity and linked back to it (DOMAIN.md §6: the ERP links
back the order it made; an opportunity records its orders and their sum).

Rules chosen where the specs are silent:
- An order is known by its ERP (`system`) and its number there, unique in the
  organization: the same pair on another opportunity is a conflict, never a move.
- A link is the whole order as the ERP has it: a field left out is cleared, and a currency
  left out is the opportunity's. `status` is the ERP's own word (confirmed, shipped,
  invoiced ...), kept as sent.
- The opportunity's ordered amount is the sum of its orders in its currency, null while it
  has none. An order in another currency is converted on its day (`ordered_at`'s date in
  the organization's time zone, else the day it was linked) at the organization's rates:
  to the base currency, then from it to the opportunity's currency. The sum is rounded
  half-even to the cent once. An order that cannot be converted is refused when linked or
  changed; one whose rate is removed later is left out of the sum from then on.
- The ordered amount is derived from the orders, so changing it gives the opportunity no
  new version and no event of its own: the order's event carries it."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from salescore.domain.access.organization import check_currency
from salescore.domain.errors import Conflict, InvalidInput
from salescore.domain.events import DomainEvent, changes
from salescore.domain.quotes.pricing import money_text

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 16  # numeric(18, 2)
URL_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True, slots=True)
class OrderTerms:
    """What the ERP says of an order, beside which order it is."""

    amount: Decimal
    currency: str
    status: str | None
    url: str | None
    ordered_at: datetime | None


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    organization_id: int
    opportunity_id: int
    system: str
    order_number: str
    amount: Decimal
    currency: str
    status: str | None
    url: str | None
    ordered_at: datetime | None
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    updated_by: int | None
    version: int

    @property
    def terms(self) -> OrderTerms:
        return OrderTerms(self.amount, self.currency, self.status, self.url, self.ordered_at)


@dataclass(frozen=True, slots=True)
class Pricing:
    """How an opportunity's orders are summed: into its currency, with the organization's
    rates (to `base_currency`) on days of its time zone."""

    currency: str
    base_currency: str
    time_zone: str


@dataclass(frozen=True, slots=True)
class OrderedAmount:
    """An opportunity's orders summed: the total (None without orders) and the ids of the
    orders no rate converts, which the total leaves out."""

    total: Decimal | None
    unconverted: frozenset[int] = frozenset()


def check_amount(amount: Decimal) -> Decimal:
    """An order's amount is a sum of money: at least 0, in cents."""
    if not amount.is_finite() or amount < 0:
        raise InvalidInput.of("amount", "must be 0 or more")
    if amount >= MAX_AMOUNT or amount != amount.quantize(CENT):
        raise InvalidInput.of("amount", "must have at most 16 digits and 2 decimals")
    return amount


def check_url(url: str) -> str:
    """A link to the order in the ERP is an absolute http(s) URL, without whitespace."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
    if (host is None or parts.scheme.lower() not in URL_SCHEMES
            or any(c.isspace() or not c.isprintable() for c in url)):
        raise InvalidInput.of("url", "must be an http or https URL, e.g. https://erp.test/o/1")
    return url


def order_terms(*, amount: Decimal, currency: str | None, status: str | None,
                url: str | None, ordered_at: datetime | None,
                opportunity_currency: str) -> OrderTerms:
    """The terms of a link, checked; the currency defaults to the opportunity's."""
    return OrderTerms(check_amount(amount), check_currency(currency or opportunity_currency),
                      status, None if url is None else check_url(url), ordered_at)


def check_same_opportunity(order: Order, opportunity_id: int) -> None:
    """An order stays on the opportunity it was linked to."""
    if order.opportunity_id != opportunity_id:
        raise Conflict(f"the order {order.order_number!r} of {order.system!r} is linked to "
                       f"another opportunity ({order.opportunity_id})")


def check_converted(order: Order, summed: OrderedAmount, pricing: Pricing) -> None:
    """An order linked or changed must convert into the opportunity's currency."""
    if order.id in summed.unconverted:
        raise InvalidInput.of("currency", (
            f"no exchange rate of the organization converts {order.currency} to "
            f"{pricing.currency} on the order's day; add one at /v1/exchange-rates"))


def check_summable(summed: OrderedAmount) -> None:
    """The opportunity's orders must sum to an amount its ordered amount can hold."""
    if summed.total is not None and abs(summed.total) >= MAX_AMOUNT:
        raise InvalidInput.of("amount", "would make the opportunity's orders sum to "
                                        "16 digits or more")


def order_fields(order: Order) -> dict[str, Any]:
    """What an order says of itself, as its events record it (money as "25.00")."""
    return {"opportunity_id": order.opportunity_id, "system": order.system,
            "order_number": order.order_number, "amount": money_text(order.amount),
            "currency": order.currency, "status": order.status, "url": order.url,
            "ordered_at": None if order.ordered_at is None else order.ordered_at.isoformat()}


def linked_event(order: Order, ordered_amount: Decimal | None) -> DomainEvent:
    """`order.linked`: the order, and the opportunity's ordered amount with it."""
    return DomainEvent("order.linked", "order", order.id, {
        **order_fields(order), "opportunity_ordered_amount": money_text(ordered_amount)})


def updated_event(before: Order, after: Order, ordered_amount: Decimal | None) -> DomainEvent:
    """`order.updated`: which order, every changed field as {"from", "to"}, and the
    opportunity's ordered amount after it."""
    return DomainEvent("order.updated", "order", after.id, {
        "opportunity_id": after.opportunity_id, "system": after.system,
        "order_number": after.order_number,
        "changes": changes(order_fields(before), order_fields(after)),
        "opportunity_ordered_amount": money_text(ordered_amount)})
