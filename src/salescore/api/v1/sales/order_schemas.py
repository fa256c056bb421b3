"""Request and response bodies of the orders an ERP links to opportunities."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from salescore.api.v1.schemas import NOT_BLANK, Decimal2, MoneyIn, NoNul, Strict, TimeIn, Trimmed
from salescore.domain.sales.orders import Order

Currency = Annotated[str, StringConstraints(min_length=3, max_length=3), NoNul,
                     Field(description="ISO 4217; defaults to the opportunity's currency.",
                           examples=["NOK"])]
OrderStatus = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK),
                        Trimmed, NoNul,
                        Field(description="The ERP's own status of the order, kept as sent.",
                              examples=["confirmed"])]
Url = Annotated[str, StringConstraints(min_length=1, max_length=2000), NoNul,
                Field(description="An http(s) link to the order in the ERP.",
                      examples=["https://erp.example/orders/4711"])]


class OrderLink(Strict):
    """The whole order as the ERP has it: a field left out is cleared (the currency is then
    the opportunity's)."""

    amount: MoneyIn
    currency: Currency | None = None
    status: OrderStatus | None = None
    url: Url | None = None
    ordered_at: TimeIn | None = Field(
        default=None, description="When the order was made; its day (in the organization's "
                                  "time zone) prices it in the opportunity's currency, else "
                                  "the day it was linked.")


class OrderRead(BaseModel):
    id: int
    opportunity_id: int
    system: str
    order_number: str
    amount: Decimal2
    currency: str
    status: str | None
    url: str | None
    ordered_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def values_of(cls, order: Order) -> dict[str, Any]:
        """The answer's fields as plain values, in the model's order (json_bodies.py)."""
        return {name: getattr(order, name) for name in _READ_FIELDS}

    @classmethod
    def of(cls, order: Order) -> "OrderRead":
        return cls.model_validate(cls.values_of(order))


_READ_FIELDS = tuple(OrderRead.model_fields)
