"""Request and response bodies of the product catalogue."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from salescore.api.v1.schemas import (
    NOT_BLANK,
    Decimal2,
    ExternalId,
    Flag,
    MoneyIn,
    Name,
    NoNul,
    Patch,
    Strict,
    Text,
    Trimmed,
)
from salescore.domain.quotes.products import Product

Sku = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK),
                Trimmed, NoNul,
                Field(description="Unique in the organization, whatever its case.",
                      examples=["CHAIR-01"])]
Currency = Annotated[str, StringConstraints(min_length=3, max_length=3), NoNul,
                     Field(description="ISO 4217; defaults to the organization's currency.",
                           examples=["NOK"])]
UnitPrice = Annotated[MoneyIn, Field(description="Per unit, in the product's currency.",
                                     examples=["1250.00"])]
UnitCost = Annotated[MoneyIn, Field(description="Per unit, for the margin of its lines.",
                                    examples=["800.00"])]


class ProductUpsert(Strict):
    """A whole product: what is left out is cleared (or set to its default)."""

    sku: Sku
    name: Name
    description: Text | None = None
    unit_price: UnitPrice
    currency: Currency | None = None
    unit_cost: UnitCost | None = None
    active: Flag = True


class ProductCreate(ProductUpsert):
    external_id: ExternalId | None = Field(
        default=None, description="The integrator's id; unique in the organization.")


class ProductUpdate(Patch):
    NULLABLE = frozenset({"description", "unit_cost", "external_id"})

    sku: Sku | None = None
    name: Name | None = None
    description: Text | None = None
    unit_price: UnitPrice | None = None
    currency: Currency | None = None
    unit_cost: UnitCost | None = None
    active: Flag | None = None
    external_id: ExternalId | None = None


class ProductRead(BaseModel):
    id: int
    sku: str
    name: str
    description: str | None
    unit_price: Decimal2
    currency: str
    unit_cost: Decimal2 | None
    active: bool
    external_id: str | None
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, product: Product) -> "ProductRead":
        return cls(id=product.id, sku=product.sku, name=product.name,
                   description=product.description, unit_price=product.unit_price,
                   currency=product.currency, unit_cost=product.unit_cost,
                   active=product.active, external_id=product.external_id,
                   created_at=product.created_at, updated_at=product.updated_at,
                   version=product.version)
