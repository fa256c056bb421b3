"""The benchmarks' raw-asyncpg baselines (bench/baselines.py) write what the API writes.

Each write path is called once through the ASGI app, as the bench calls it (the same
method, path and body, filled with the same kind of values), and its baseline once on its
own connection and transaction, each on opportunities of its own. Around each, every row
of the organization is listed by table with its primary key and the version of its tuple
(`xmin`): a key that appears is a row inserted, one whose tuple changed a row changed, one
that goes a row deleted. Both must come to the path's declared `rows`, so that neither
side can change without the other (and the bench's figures) being looked at again."""

import itertools
import random
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace

import asyncpg
import pytest
from bench.baselines import (
    CREATE,
    PATHS,
    World,
    WritePath,
    load_world,
    make_pool,
    render,
)
from bench.load import Round
from bench.random_load import Pattern
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Tenant
from tests.opportunity_factories import make_process, sql

Counts = dict[str, tuple[int, int, int]]  # table -> (inserted, changed, deleted)
Rows = dict[str, dict[str, str]]  # table -> primary key -> xmin

_KEYED_TABLES = """
SELECT c.relname AS name,
       coalesce((SELECT array_agg(quote_ident(a.attname) ORDER BY k.ord)
                 FROM pg_index i
                 CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k (attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                 WHERE i.indrelid = c.oid AND i.indisprimary), ARRAY['ctid']) AS key
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND (c.relname = 'organizations'
      OR EXISTS (SELECT FROM pg_attribute o WHERE o.attrelid = c.oid
                 AND o.attname = 'organization_id' AND NOT o.attisdropped))
"""


async def rows_of(connection: asyncpg.Connection, organization_id: int) -> Rows:
    """Every row of the organization, in every table that has one, by primary key (a
    table without one by ctid, so that a change shows as a delete and an insert)."""
    found: Rows = {}
    for table in await connection.fetch(_KEYED_TABLES):
        column = "id" if table["name"] == "organizations" else "organization_id"
        key = ", ".join(table["key"])
        found[table["name"]] = {
            row["key"]: row["version"] for row in await connection.fetch(
                f'SELECT (ROW({key}))::text AS key, xmin::text AS version'
                f' FROM "{table["name"]}" WHERE {column} = $1', organization_id)}
    return found


def counted(before: Rows, after: Rows) -> Counts:
    """What changed from `before` to `after`, by table; tables with no change left out."""
    counts: Counts = {}
    for table in before.keys() | after.keys():
        old, new = before.get(table, {}), after.get(table, {})
        inserted = len(new.keys() - old.keys())
        deleted = len(old.keys() - new.keys())
        changed = sum(1 for key in old.keys() & new.keys() if old[key] != new[key])
        if inserted or changed or deleted:
            counts[table] = (inserted, changed, deleted)
    return counts


def declared(path: WritePath) -> Counts:
    return {table: (inserted, changed, 0) for table, (inserted, changed) in path.rows.items()}


@pytest.fixture
async def connection(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    made = await asyncpg.connect(database_url.replace("postgresql+asyncpg://",
                                                      "postgresql://", 1))
    try:
        yield made
    finally:
        await made.close()


async def make_world(app: FastAPI, tenant: Tenant,
                     connection: asyncpg.Connection) -> World:
    """An organization as the bench's: other users (consecutive ids, one the seller to
    add), customers, a default process with three open stages, a won and a lost one, and
    opportunities of the pool's kind to change."""
    org = tenant.organization_id
    users = await connection.fetch(
        "INSERT INTO users (organization_id, name, initials, email, role)"
        " SELECT $1, 'Seller ' || g, 'S' || g, 'seller' || g || '-' || $2 || '@bench.test',"
        " 'seller' FROM generate_series(1, 4) AS g ORDER BY g RETURNING id", org, str(org))
    customers = await connection.fetch(
        "INSERT INTO customers (organization_id, name) SELECT $1, 'Kunde ' || g"
        " FROM generate_series(1, 3) AS g ORDER BY g RETURNING id", org)
    user_ids, customer_ids = sorted(r["id"] for r in users), sorted(r["id"] for r in customers)
    assert user_ids == list(range(user_ids[0], user_ids[0] + 4))
    assert customer_ids == list(range(customer_ids[0], customer_ids[0] + 3))
    process = await make_process(app, tenant, default_for_all=True)
    world = await load_world(
        connection, organization_id=org, actor_id=tenant.admin_id,
        users=(user_ids[1], user_ids[-1]), seller_id=user_ids[0],
        customers=(customer_ids[0], customer_ids[-1]), opportunities=(0, 0),
        process_id=process.id)
    return replace(world, opportunities=await make_pool(connection, world, 4))


def values_for(path: WritePath, world: World, *, highest: bool, pool_id: int) -> dict[str, int]:
    """The values of one call: each at the top of its range or at the bottom (the API's
    call and the baseline's differ so, their opportunities too); a pooled path's id is
    `pool_id`."""
    values = {name: bounds[1] if highest else bounds[0]
              for name, bounds in path.ranges(world).items()}
    return values | {"id": pool_id} if path.pooled else values


async def call_api(client: AsyncClient, tenant: Tenant, path: WritePath, world: World,
                   values: Mapping[str, int]) -> None:
    response = await client.request(
        path.method, render(path.path, values), content=render(path.body(world), values),
        headers={**tenant.admin, "Content-Type": "application/json"})
    assert response.status_code == path.expect, response.text


@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.name)
async def test_the_api_and_its_baseline_write_the_same_rows(
        client: AsyncClient, app: FastAPI, tenant: Tenant, connection: asyncpg.Connection,
        path: WritePath) -> None:
    world = await make_world(app, tenant, connection)
    org, first = tenant.organization_id, world.opportunities[0]
    before = await rows_of(connection, org)
    await call_api(client, tenant, path, world,
                   values_for(path, world, highest=True, pool_id=first))
    by_api = counted(before, await rows_of(connection, org))

    before = await rows_of(connection, org)
    async with connection.transaction():
        assert await path.baseline(connection, world,
                                   values_for(path, world, highest=False, pool_id=first + 1))
    by_baseline = counted(before, await rows_of(connection, org))

    assert by_api == declared(path)
    assert by_baseline == declared(path)


async def test_a_create_writes_nine_rows_when_it_names_another_owner(
        client: AsyncClient, app: FastAPI, tenant: Tenant,
        connection: asyncpg.Connection) -> None:
    """The bench's create: another user's opportunity, with its reminder task, so that
    both the opportunity and the task notify the owner."""
    world = await make_world(app, tenant, connection)
    before = await rows_of(connection, tenant.organization_id)
    await call_api(client, tenant, CREATE, world,
                   values_for(CREATE, world, highest=False, pool_id=0))
    after = await rows_of(connection, tenant.organization_id)
    assert sum(inserted for inserted, _, _ in counted(before, after).values()) == 9


async def test_a_pooled_baseline_finds_nothing_past_the_pool(
        app: FastAPI, tenant: Tenant, connection: asyncpg.Connection) -> None:
    """A used-up pool shows as errors, not as calls that wrote nothing."""
    world = await make_world(app, tenant, connection)
    for path in (p for p in PATHS if p.pooled):
        async with connection.transaction():
            assert not await path.baseline(connection, world,
                                           {"id": world.opportunities[1] + 1000})


async def test_the_pool_is_open_opportunities_with_one_seller_in_the_first_stage(
        app: FastAPI, tenant: Tenant, connection: asyncpg.Connection) -> None:
    world = await make_world(app, tenant, connection)
    first, last = await make_pool(connection, world, 3)
    assert last - first == 2
    rows = await connection.fetch(
        "SELECT o.status, o.stage_id, array_agg(s.user_id) AS sellers, o.owner_id"
        " FROM opportunities o JOIN opportunity_sellers s ON s.organization_id ="
        " o.organization_id AND s.opportunity_id = o.id WHERE o.organization_id = $1"
        " AND o.id BETWEEN $2 AND $3 GROUP BY o.organization_id, o.id",
        tenant.organization_id, first, last)
    assert [(r["status"], r["stage_id"]) for r in rows] == [
        ("open", world.open_stages[0][0])] * 3
    assert all(r["sellers"] == [r["owner_id"]] and r["owner_id"] != world.seller_id
               for r in rows)
    history = await sql(app, "SELECT count(*) FROM opportunity_history WHERE organization_id"
                             " = :org AND opportunity_id BETWEEN :a AND :b",
                        org=tenant.organization_id, a=first, b=last)
    assert history == 3


def test_a_counter_gives_each_request_the_next_value_and_moves_on_after_a_run() -> None:
    pattern = Pattern("win", "http://x", "/v1/opportunities/{id}/win", connections=2,
                      ranges={"n": (5, 5)}, counters={"id": 40})
    counted_ids = {"id": itertools.count(40)}
    filled = [pattern.fill(pattern.path + "?n={n}", random.Random(1), counted_ids)
              for _ in range(3)]
    assert filled == [f"/v1/opportunities/{n}/win?n=5" for n in (40, 41, 42)]
    done = Round(requests=10, errors=1, seconds=1.0, p50_ms=1.0, p99_ms=1.0, client_cpu=0.0)
    assert pattern.advanced(done).counters == {"id": 40 + 10 + 1 + 2}
