"""Test data for sales processes: one made through the API, and opportunities put straight
into the database (so that tests of processes do not depend on the opportunities API)."""

import secrets
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy import insert, select

from salescore.repositories.customers.models import customers
from salescore.repositories.sales.models import opportunities
from tests.factories import Tenant

DEFAULT_STAGES: list[dict[str, Any]] = [
    {"name": "First contact", "probability": "10.00"},
    {"name": "Quote sent", "probability": "50.00", "color": "#1565C0"},
    {"name": "Verbal yes", "probability": "75.00", "marks_quote_signed": True},
    {"name": "Won", "probability": "100.00", "kind": "won"},
    {"name": "Lost", "probability": "0.00", "kind": "lost"},
]


async def make_process(client: AsyncClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    """A sales process made by the tenant's admin: three open stages, won and lost,
    unless `stages` (or any other field) is given."""
    body = {"name": f"Process {secrets.token_hex(3)}", "stages": DEFAULT_STAGES, **fields}
    response = await client.post("/v1/sales-processes", json=body, headers=tenant.admin)
    assert response.status_code == 201, response.text
    process: dict[str, Any] = response.json()
    return process


async def read_process(client: AsyncClient, tenant: Tenant, process_id: int) -> dict[str, Any]:
    response = await client.get(f"/v1/sales-processes/{process_id}", headers=tenant.admin)
    assert response.status_code == 200, response.text
    process: dict[str, Any] = response.json()
    return process


def problem_field(response: Response) -> str:
    """The field the first error of a problem answer names."""
    assert response.headers["content-type"] == "application/problem+json", response.text
    field: str = response.json()["errors"][0]["field"]
    return field


def stage_named(process: dict[str, Any], name: str) -> dict[str, Any]:
    stage: dict[str, Any] = next(s for s in process["stages"] if s["name"] == name)
    return stage


async def insert_customer(tenant: Tenant, name: str = "Customer AS") -> int:
    async with tenant.app.state.salescore.engine.begin() as connection:
        customer_id: int = (await connection.execute(insert(customers).values(
            organization_id=tenant.organization_id, name=name,
        ).returning(customers.c.id))).scalar_one()
    return customer_id


async def insert_opportunity(tenant: Tenant, stage: dict[str, Any], *,
                             customer_id: int | None = None, probability: str = "33.00",
                             probability_source: str = "manual", **fields: Any) -> int:
    """An opportunity on `stage` (as the API shows it, with its process) owned by the admin;
    won or lost when the stage is."""
    if customer_id is None:
        customer_id = await insert_customer(tenant)
    status = stage["kind"]
    values = {"organization_id": tenant.organization_id, "name": "Deal",
              "customer_id": customer_id, "owner_id": tenant.admin_id,
              "sales_process_id": stage["sales_process_id"], "stage_id": stage["id"],
              "status": status, "currency": "NOK", "probability": Decimal(probability),
              "probability_source": probability_source, "amount": Decimal("1000.00"),
              "closed_at": None if status == "open" else datetime.now(UTC), **fields}
    async with tenant.app.state.salescore.engine.begin() as connection:
        opportunity_id: int = (await connection.execute(insert(opportunities).values(
            **values).returning(opportunities.c.id))).scalar_one()
    return opportunity_id


async def opportunity_row(tenant: Tenant, opportunity_id: int) -> dict[str, Any]:
    """The opportunity as stored."""
    async with tenant.app.state.salescore.engine.connect() as connection:
        row = (await connection.execute(select(opportunities).where(
            opportunities.c.organization_id == tenant.organization_id,
            opportunities.c.id == opportunity_id))).one()
    return dict(row._mapping)
