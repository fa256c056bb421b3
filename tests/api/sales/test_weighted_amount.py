"""The stored `weighted_amount` (a generated column, migration 0006) is the domain's, to
the cent, for every amount an opportunity can have."""

from decimal import Decimal

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from salescore.domain.sales.opportunities import weighted_amount
from tests.factories import Tenant
from tests.opportunity_factories import World, create_opportunity, make_world, sql

LARGEST = "9999999999999999.99"


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await make_world(app, tenant)


@pytest.mark.parametrize(("amount", "probability"), [
    (LARGEST, "50.01"), (LARGEST, "49.99"), (LARGEST, "33.33"), (LARGEST, "0.01"),
    (LARGEST, "99.99"), (LARGEST, "50"), (LARGEST, "100"), ("1234567890123.45", "12.35"),
    ("0.25", "50"), ("0.35", "50")])
async def test_the_stored_weighted_amount_is_the_domains_to_the_cent(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World, amount: str,
        probability: str):
    created = await create_opportunity(client, tenant, world.customer_id, amount=amount,
                                       probability=probability)
    expected = weighted_amount(Decimal(amount), Decimal(probability))
    stored = await sql(app, "SELECT weighted_amount FROM opportunities WHERE "
                            "organization_id = :org AND id = :id",
                       org=tenant.organization_id, id=created["id"])
    kept = await sql(app, "SELECT weighted_amount FROM opportunity_history WHERE "
                          "organization_id = :org AND opportunity_id = :id",
                     org=tenant.organization_id, id=created["id"])
    assert (stored, kept, Decimal(created["weighted_amount"])) == (expected, expected, expected)
