"""Product lines on an opportunity and what the opportunity takes from them (DOMAIN.md §6).
Every figure comes from domain/quotes/pricing.py, the one rule of lines, offers and quotes.

Rules chosen where the specs are silent:
- A product's line takes the product's name and description unless given, and its unit
  price and unit cost (a snapshot: later changes of the product leave the line alone) when
  the product is in the opportunity's currency. In another currency the price must be
  given, and the cost is left out unless given: a cost in another currency is no margin.
- The quantity defaults to 1, the line discount to 0.
- A line keeps its product: to put another product on the opportunity, add a line.
- Positions run 1..n in the order of the lines: a new line goes last, removing one closes
  the gap, and a new order names every line once.
- An opportunity holds at most 500 lines (the bound of a list page).
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from salescore.domain.errors import InvalidInput
from salescore.domain.quotes.pricing import (
    MAX_MONEY,
    PricedLine,
    checked_money,
    checked_percent,
    checked_quantity,
    money_text,
    offer_totals,
)
from salescore.domain.sales.opportunities import AmountSource, Opportunity

MAX_LINES = 500
ONE = Decimal("1.000")
NO_DISCOUNT = Decimal("0.00")
CENT = Decimal("0.01")
THOUSANDTH = Decimal("0.001")
DERIVED_FIELDS = ("amount", "margin_amount")
EDITABLE_FIELDS = ("name", "description", "quantity", "unit_price", "discount_percent",
                   "unit_cost")
_CHECKS = {"quantity": checked_quantity, "unit_price": checked_money,
           "unit_cost": checked_money, "discount_percent": checked_percent}


@dataclass(frozen=True, slots=True)
class ProductTerms:
    """What a new line may take from its product."""

    id: int
    name: str
    description: str | None
    unit_price: Decimal
    currency: str
    unit_cost: Decimal | None
    active: bool


@dataclass(frozen=True, slots=True)
class Line:
    id: int
    organization_id: int
    opportunity_id: int
    product_id: int | None
    name: str
    description: str | None
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    unit_cost: Decimal | None
    position: int
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    updated_by: int | None

    @property
    def priced(self) -> PricedLine:
        return PricedLine(self.quantity, self.unit_price, self.discount_percent, self.unit_cost)

    @property
    def line_total(self) -> Decimal:
        return self.priced.total

    @property
    def line_cost(self) -> Decimal | None:
        return self.priced.cost

    @property
    def line_margin(self) -> Decimal | None:
        return self.priced.margin


def checked_line_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a line write with its figures checked: a quantity above 0 with at
    most three decimals, money of 0 or more to the cent, a discount from 0 to 100 %."""
    return {field: value if value is None or field not in _CHECKS
            else _CHECKS[field](value, field) for field, value in values.items()}


def _fits(line: Line) -> Line:
    """A line's total and cost must be amounts the records can hold."""
    cost = line.line_cost
    if line.line_total >= MAX_MONEY or (cost is not None and cost >= MAX_MONEY):
        raise InvalidInput.of("quantity", "makes a line total larger than an amount can hold")
    return line


def _price_of(product: ProductTerms | None, currency: str) -> Decimal:
    """The unit price a line takes from its product: only in the opportunity's currency."""
    if product is None:
        raise InvalidInput.of("unit_price", "is required for a line without a product")
    if product.currency != currency:
        raise InvalidInput.of("unit_price", f"is required: the product is priced in "
                                            f"{product.currency}, the opportunity is in "
                                            f"{currency}")
    return product.unit_price


def new_line(values: Mapping[str, Any], product: ProductTerms | None, *,
             opportunity: Opportunity, lines: Sequence[Line], now: datetime,
             user_id: int | None) -> Line:
    """A new line, last on the opportunity, from checked `values` and the product it names
    (None for a free-text line, which must give its name and unit price). An inactive
    product takes no new lines; a product's unit price is taken only in the opportunity's
    currency (see the module's rules)."""
    if len(lines) >= MAX_LINES:
        raise InvalidInput.of("opportunity_id",
                              f"has {MAX_LINES} lines, the most an opportunity holds")
    if product is not None and not product.active:
        raise InvalidInput.of("product_id", "is a product that is not active")
    same_currency = product is not None and product.currency == opportunity.currency
    name = values.get("name") or (product.name if product else None)
    if name is None:
        raise InvalidInput.of("name", "is required for a line without a product")
    unit_price = values.get("unit_price")
    if unit_price is None:
        unit_price = _price_of(product, opportunity.currency)
    unit_cost = values.get("unit_cost", product.unit_cost if product is not None
                           and same_currency else None)
    description = values.get("description", product.description if product else None)
    quantity, discount = values.get("quantity"), values.get("discount_percent")
    return _fits(Line(
        id=0, organization_id=opportunity.organization_id, opportunity_id=opportunity.id,
        product_id=None if product is None else product.id, name=name,
        description=description, quantity=ONE if quantity is None else quantity,
        unit_price=unit_price, discount_percent=NO_DISCOUNT if discount is None else discount,
        unit_cost=unit_cost, position=len(lines) + 1, created_at=now, created_by=user_id,
        updated_at=now, updated_by=user_id))


def change_line(line: Line, values: Mapping[str, Any], *, now: datetime,
                user_id: int | None) -> Line:
    """The editable fields given, changed (a line keeps its product and position); a line
    left as it was is returned as it is."""
    changed = replace(line, **{f: values[f] for f in EDITABLE_FIELDS if f in values})
    if changed == line:
        return line
    return replace(_fits(changed), updated_at=now, updated_by=user_id)


def reorder(lines: Sequence[Line], line_ids: Sequence[int]) -> tuple[Line, ...]:
    """The lines in the order `line_ids` gives, at positions 1..n; it must name every line
    of the opportunity, each once."""
    by_id = {line.id: line for line in lines}
    if len(set(line_ids)) != len(line_ids) or set(line_ids) != set(by_id):
        raise InvalidInput.of("line_ids",
                              "must name every line of the opportunity, each exactly once")
    return tuple(replace(by_id[line_id], position=n)
                 for n, line_id in enumerate(line_ids, start=1))


def without(lines: Sequence[Line], line_id: int) -> tuple[Line, ...]:
    """The lines left once one is removed, in their order, closed up to positions 1..n."""
    kept = sorted((line for line in lines if line.id != line_id),
                  key=lambda line: (line.position, line.id))
    return tuple(replace(line, position=n) for n, line in enumerate(kept, start=1))


def priced(opportunity: Opportunity, lines: Sequence[Line]) -> Opportunity:
    """The opportunity's figures from its lines: `lines_total` always; with amount source
    `lines`, the amount is the offer's total after the offer discount and the margin amount
    the margin of the lines (None when any line lacks a unit cost)."""
    totals = offer_totals([line.priced for line in lines], opportunity.discount_percent)
    if totals.lines_total >= MAX_MONEY:
        raise InvalidInput.of("quantity", "makes the lines total larger than an amount "
                                          "can hold")
    if totals.margin is not None and totals.margin <= -MAX_MONEY:
        raise InvalidInput.of("unit_cost", "makes the margin larger than an amount can hold")
    figured = replace(opportunity, lines_total=totals.lines_total)
    if opportunity.amount_source is AmountSource.LINES:
        figured = replace(figured, amount=totals.total, margin_amount=totals.margin)
    return figured


def needs_repricing(before: Opportunity, after: Opportunity) -> bool:
    """Whether a change of the opportunity itself moves the figures it takes from its
    lines: a switch to amount source `lines`, or a new offer discount while on it."""
    return after.amount_source is AmountSource.LINES and (
        before.amount_source is not AmountSource.LINES
        or before.discount_percent != after.discount_percent)


def refuse_derived_writes(opportunity: Opportunity, written: Collection[str]) -> None:
    """With amount source `lines` the amount and margin amount come from the lines: a write
    of either is refused, in the very request that switches to `lines` too. Switching back
    to `manual` keeps the last amount and margin."""
    if opportunity.amount_source is AmountSource.LINES:
        for field in DERIVED_FIELDS:
            if field in written:
                raise InvalidInput.of(field, "is derived from the lines while "
                                             "amount_source is lines")


def check_currency_kept(before: Opportunity, after: Opportunity, line_count: int) -> None:
    """The currency of an opportunity with lines cannot change: its lines are priced in it."""
    if after.currency != before.currency and line_count > 0:
        raise InvalidInput.of("currency", "cannot change while the opportunity has lines")


def line_snapshot(line: Line) -> dict[str, Any]:
    """The recorded fields of a line as JSON values (money as "25.00")."""
    return {"id": line.id, "product_id": line.product_id, "name": line.name,
            "description": line.description, "quantity": str(line.quantity.quantize(
                THOUSANDTH)), "unit_price": money_text(line.unit_price),
            "discount_percent": money_text(line.discount_percent),
            "unit_cost": money_text(line.unit_cost), "position": line.position,
            "line_total": money_text(line.line_total)}


def line_changes(before: Line | None, after: Line | None) -> dict[str, Any]:
    """The `line` entry of the opportunity's event: the line added (from null), removed
    (to null), or the fields of it that changed, each side with the line's id; empty when
    nothing changed."""
    old = None if before is None else line_snapshot(before)
    new = None if after is None else line_snapshot(after)
    if old is not None and new is not None:
        changed = [key for key in new if key != "id" and old[key] != new[key]]
        if not changed:
            return {}
        old = {"id": old["id"], **{key: old[key] for key in changed}}
        new = {"id": new["id"], **{key: new[key] for key in changed}}
    return {"line": {"from": old, "to": new}}


def order_changes(before: Sequence[Line], after: Sequence[Line]) -> dict[str, Any]:
    """The `line_order` entry of the opportunity's event: the line ids in their order
    before and after; empty when the order is as it was."""
    def ids(lines: Sequence[Line]) -> list[int]:
        return [line.id for line in sorted(lines, key=lambda line: (line.position, line.id))]

    old, new = ids(before), ids(after)
    return {} if old == new else {"line_order": {"from": old, "to": new}}
