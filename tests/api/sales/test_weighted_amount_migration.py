"""Migration 0006 recomputes the weighted amounts already stored (the opportunities' and
their history's) by the exact rule, and its downgrade by the rule it replaced."""

import asyncio
import secrets
from decimal import Decimal

import asyncpg

from salescore.database_server import create_database, downgrade, migrate
from salescore.domain.sales.opportunities import weighted_amount
from tests.databases import drop_database, with_database

AMOUNT, PROBABILITY = Decimal("9999999999999999.99"), Decimal("50.01")
ONE_OPPORTUNITY = """
WITH org AS (INSERT INTO organizations (name, base_currency) VALUES ('Big', 'NOK')
             RETURNING id),
     owner AS (INSERT INTO users (organization_id, name, initials, email, role)
               SELECT id, 'Ada', 'AL', 'ada@big.test', 'admin' FROM org
               RETURNING organization_id, id),
     customer AS (INSERT INTO customers (organization_id, name) SELECT id, 'Big AS' FROM org
                  RETURNING id),
     process AS (INSERT INTO sales_processes (organization_id, name) SELECT id, 'P' FROM org
                 RETURNING organization_id, id),
     stage AS (INSERT INTO stages (organization_id, sales_process_id, name, position,
                                   probability, kind)
               SELECT organization_id, id, 'Lead', 1, $2, 'open' FROM process
               RETURNING sales_process_id, id)
INSERT INTO opportunities (organization_id, name, customer_id, owner_id, sales_process_id,
                           stage_id, amount, currency, probability)
SELECT owner.organization_id, 'Big', customer.id, owner.id, stage.sales_process_id, stage.id,
       $1, 'NOK', $2 FROM owner, customer, stage
"""


async def _stored(dsn: str, *, insert: bool = False) -> tuple[Decimal, Decimal]:
    connection = await asyncpg.connect(dsn)
    try:
        if insert:
            await connection.execute(ONE_OPPORTUNITY, AMOUNT, PROBABILITY)
        row = await connection.fetchrow(
            "SELECT o.weighted_amount, h.weighted_amount AS kept FROM opportunities o"
            " JOIN opportunity_history h ON h.opportunity_id = o.id")
        assert row is not None
        return row["weighted_amount"], row["kept"]
    finally:
        await connection.close()


def test_upgrading_recomputes_the_weighted_amounts_stored_before(admin_dsn: str):
    name = f"salescore_weighted_{secrets.token_hex(4)}"
    asyncio.run(create_database(admin_dsn, name))
    url, dsn = with_database(admin_dsn, name, "asyncpg"), with_database(admin_dsn, name)
    exact = weighted_amount(AMOUNT, PROBABILITY)
    try:
        migrate(url, "0005")
        divided = asyncio.run(_stored(dsn, insert=True))
        assert divided != (exact, exact)
        migrate(url, "0006")
        assert asyncio.run(_stored(dsn)) == (exact, exact)
        downgrade(url, "0005")
        assert asyncio.run(_stored(dsn)) == divided
    finally:
        asyncio.run(drop_database(admin_dsn, name))
