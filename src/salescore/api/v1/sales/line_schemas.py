"""Request and response bodies of an opportunity's product lines. The figures come in as
decimal strings and are checked by the domain (domain/quotes/pricing.py),
which names the field of any that is out of bounds or has too many decimals."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

from salescore.api.v1.schemas import CENT, Decimal2, DecimalText, Id, Name, Patch, Strict, Text
from salescore.domain.quotes.pricing import line_margin
from salescore.domain.sales.lines import MAX_LINES, Line

THOUSANDTH = Decimal("0.001")


def _three_places(value: Decimal) -> str:
    return str(value.quantize(THOUSANDTH))


def _two_places(value: Decimal) -> str:
    return str(value.quantize(CENT))


# Quantities go out as JSON strings with three decimals ("2.500").
Decimal3 = Annotated[Decimal, PlainSerializer(_three_places, return_type=str),
                     WithJsonSchema({"type": "string", "pattern": r"^\d+\.\d{3}$",
                                     "examples": ["2.500"]}, mode="serialization")]
# A margin, which is negative for a line sold below cost ("-12.50").
SignedDecimal2 = Annotated[Decimal, PlainSerializer(_two_places, return_type=str),
                           WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$",
                                           "examples": ["-12.50"]}, mode="serialization")]
QuantityIn = Annotated[Decimal, Field(allow_inf_nan=False, description=(
    "More than 0, at most three decimals.")), DecimalText("2.5")]
UnitPriceIn = Annotated[Decimal, Field(allow_inf_nan=False, description="0 or more, to the "
                                                                        "cent."),
                        DecimalText("1250.00")]
DiscountIn = Annotated[Decimal, Field(allow_inf_nan=False,
                                      description="0 to 100, at most two decimals."),
                       DecimalText("10.00")]


class LineCreate(Strict):
    """A new line, last on the opportunity. A product's line takes the product's name,
    description, unit price and unit cost where not given (price and cost only when the
    product is in the opportunity's currency: otherwise `unit_price` is required, and the
    cost is left out unless given); `unit_cost: null` leaves the cost out. A free-text line
    (no `product_id`) needs `name` and `unit_price`."""

    product_id: Id | None = Field(default=None, description="An active product; none for "
                                                            "a free-text line.")
    name: Name | None = Field(default=None, description="Defaults to the product's.")
    description: Text | None = Field(default=None, description="Defaults to the product's.")
    quantity: QuantityIn | None = Field(default=None, description="Defaults to 1.")
    unit_price: UnitPriceIn | None = Field(
        default=None, description="Defaults to the product's in the opportunity's currency.")
    discount_percent: DiscountIn | None = Field(default=None, description="Defaults to 0.")
    unit_cost: UnitPriceIn | None = Field(
        default=None, description="Defaults to the product's in the opportunity's currency: "
                                  "a snapshot, kept when the product changes.")


class LineUpdate(Patch):
    """The fields given change; a line keeps its product and its position (see
    `PUT .../lines/order`)."""

    NULLABLE = frozenset({"description", "unit_cost"})

    name: Name | None = None
    description: Text | None = None
    quantity: QuantityIn | None = None
    unit_price: UnitPriceIn | None = None
    discount_percent: DiscountIn | None = None
    unit_cost: UnitPriceIn | None = None


class LineOrder(Strict):
    line_ids: list[Id] = Field(max_length=MAX_LINES, description=(
        "Every line of the opportunity, each once, in the new order."))


class LineRead(BaseModel):
    id: int
    opportunity_id: int
    product_id: int | None
    name: str
    description: str | None
    quantity: Decimal3
    unit_price: Decimal2
    discount_percent: Decimal2
    unit_cost: Decimal2 | None
    position: int
    line_total: Decimal2 = Field(description="quantity x unit price x (100 - discount) / "
                                             "100, rounded half-even to the cent.")
    line_margin: SignedDecimal2 | None = Field(description="line total - quantity x unit cost "
                                                     "(rounded to the cent); null without "
                                                     "a unit cost.")
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    updated_by: int | None

    @classmethod
    def values_of(cls, line: Line) -> dict[str, Any]:
        """The answer's fields as plain values, in the model's order (json_bodies.py); the
        line's figures worked out once."""
        priced = line.priced
        total, cost = priced.total, priced.cost
        figures = {"line_total": total, "line_margin": line_margin(total, cost)}
        return {name: figures[name] if name in figures else getattr(line, name)
                for name in _READ_FIELDS}

    @classmethod
    def of(cls, line: Line) -> "LineRead":
        return cls.model_validate(cls.values_of(line))


_READ_FIELDS = tuple(LineRead.model_fields)
