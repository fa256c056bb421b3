"""The product catalogue: what an organization sells, at what price and cost.

A product's sku is its name in the catalogue: unique in the organization, compared without
regard to case ("ABC-1" and "abc-1" are one sku), kept as it was written. Its price and
cost are in its own currency; a line on an opportunity copies them when it is made, so a
later change of the product leaves the lines as they are."""

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from salescore.domain.access.organization import check_currency
from salescore.domain.events import DomainEvent, changes
from salescore.domain.quotes.pricing import money_text


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    organization_id: int
    sku: str
    name: str
    description: str | None
    unit_price: Decimal
    currency: str
    unit_cost: Decimal | None
    active: bool
    external_id: str | None
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    updated_by: int | None
    version: int


def check_product_values(values: dict[str, Any]) -> dict[str, Any]:
    """A currency, when one is given, is an ISO 4217 code in circulation."""
    if values.get("currency") is not None:
        check_currency(values["currency"])
    return values


def product_fields(product: Product) -> dict[str, Any]:
    """What a product says about itself, as its events record it (money as "25.00")."""
    return {"sku": product.sku, "name": product.name, "description": product.description,
            "unit_price": money_text(product.unit_price), "currency": product.currency,
            "unit_cost": money_text(product.unit_cost), "active": product.active,
            "external_id": product.external_id}


def product_changes(before: Product, values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields `values` would change, as `{field: {"from", "to"}}`; none when the write
    leaves the product as it is (it is then not made: no new version, no event)."""
    return changes(product_fields(before), product_fields(replace(before, **values)))


def created_event(product: Product) -> DomainEvent:
    return DomainEvent("product.created", "product", product.id, product_fields(product))


def updated_event(before: Product, after: Product) -> DomainEvent:
    """`product.updated`, with every changed field as {"from", "to"} and the sku."""
    return DomainEvent("product.updated", "product", after.id, {
        "sku": after.sku, "changes": changes(product_fields(before), product_fields(after))})


def deleted_event(product: Product) -> DomainEvent:
    """`product.deleted`: a tombstone with what the product was."""
    return DomainEvent("product.deleted", "product", product.id, product_fields(product))
