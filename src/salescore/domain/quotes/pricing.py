"""The arithmetic of lines and offers, one rule everywhere (DOMAIN.md §6).

- line total = quantity * unit price * (100 - line discount) / 100, rounded half-even to the
  cent, once, at the end;
- lines total = Σ line totals; discount amount = lines total * offer discount / 100, rounded
  half-even to the cent; total = lines total - discount amount;
- line cost = quantity * unit cost, rounded half-even to the cent; line margin = line total -
  line cost, None without a unit cost; the margin of the lines = total - Σ line costs, None
  when any line lacks a unit cost (an offer without lines has a margin of 0.00).

Products are computed exactly (a wide local precision), so the single rounding is the only
one; recomputing from the same figures always gives the same result.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from salescore.domain.errors import InvalidInput

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
THOUSANDTH = Decimal("0.001")
MAX_QUANTITY = Decimal(10) ** 12
MAX_MONEY = Decimal(10) ** 16  # numeric(18, 2)
WIDE = 80  # digits: wide enough for any product of checked figures to be exact


def _to_cent(exact: Decimal) -> Decimal:
    with localcontext(prec=WIDE):
        return exact.quantize(CENT, rounding=ROUND_HALF_EVEN)


def line_total(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    """quantity * unit price * (100 - discount) / 100, rounded half-even to the cent."""
    with localcontext(prec=WIDE):
        return _to_cent(quantity * unit_price * (HUNDRED - discount_percent) / HUNDRED)


def line_cost(quantity: Decimal, unit_cost: Decimal | None) -> Decimal | None:
    """quantity * unit cost, rounded half-even to the cent; None without a unit cost."""
    if unit_cost is None:
        return None
    with localcontext(prec=WIDE):
        return _to_cent(quantity * unit_cost)


def line_margin(total: Decimal, cost: Decimal | None) -> Decimal | None:
    """A line's total less its cost; None without a cost."""
    if cost is None:
        return None
    with localcontext(prec=WIDE):
        return total - cost


@dataclass(frozen=True, slots=True)
class PricedLine:
    """The figures of one line that its total, cost and margin follow from."""

    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    unit_cost: Decimal | None

    @property
    def total(self) -> Decimal:
        return line_total(self.quantity, self.unit_price, self.discount_percent)

    @property
    def cost(self) -> Decimal | None:
        return line_cost(self.quantity, self.unit_cost)

    @property
    def margin(self) -> Decimal | None:
        return line_margin(self.total, self.cost)


@dataclass(frozen=True, slots=True)
class OfferTotals:
    lines_total: Decimal
    discount_amount: Decimal
    total: Decimal
    margin: Decimal | None


def offer_totals(lines: Sequence[PricedLine], discount_percent: Decimal) -> OfferTotals:
    """The totals of an offer: the sum of its line totals, the offer discount on that sum
    (half-even to the cent), what is left, and the margin of the lines (None when any line
    lacks a unit cost)."""
    with localcontext(prec=WIDE):
        lines_total = sum((line.total for line in lines), ZERO)
        discount_amount = _to_cent(lines_total * discount_percent / HUNDRED)
        total = lines_total - discount_amount
        costs = [line.cost for line in lines]
        margin = None
        if all(cost is not None for cost in costs):
            margin = total - sum((cost for cost in costs if cost is not None), ZERO)
    return OfferTotals(lines_total, discount_amount, total, margin)


def _has_places(value: Decimal, unit: Decimal) -> bool:
    with localcontext(prec=WIDE):
        return value == value.quantize(unit)


def checked_quantity(value: Decimal, field: str = "quantity") -> Decimal:
    """A quantity is more than 0 and below 10^12, with at most three decimals."""
    if not value.is_finite() or not 0 < value < MAX_QUANTITY:
        raise InvalidInput.of(field, "must be more than 0 and less than 1000000000000")
    if not _has_places(value, THOUSANDTH):
        raise InvalidInput.of(field, "must have at most three decimals")
    return value.quantize(THOUSANDTH)


def checked_percent(value: Decimal, field: str) -> Decimal:
    """A discount is a percentage from 0 to 100 with at most two decimals."""
    if not value.is_finite() or not 0 <= value <= HUNDRED:
        raise InvalidInput.of(field, "must be between 0 and 100")
    if not _has_places(value, CENT):
        raise InvalidInput.of(field, "must have at most two decimals")
    return value.copy_abs().quantize(CENT)


def money_text(value: Decimal | None) -> str | None:
    """An amount as events carry it: a string of two decimals ("12.50"), or None."""
    return None if value is None else str(value.quantize(CENT))


def checked_money(value: Decimal, field: str) -> Decimal:
    """An amount of money is 0 or more, below 10^16 (numeric(18, 2)), to the cent."""
    if not value.is_finite() or not 0 <= value < MAX_MONEY:
        raise InvalidInput.of(field, "must be 0 or more and less than 10000000000000000")
    if not _has_places(value, CENT):
        raise InvalidInput.of(field, "must have at most two decimals")
    return value.copy_abs().quantize(CENT)
