"""An opportunity import stores a batch's new records set-wise (one INSERT a table), and
leaves exactly what the API's create leaves: record, sellers, history, tasks, events and
notifications; a batch the database refuses as a set is written row by row."""

import asyncio
import secrets
from collections import Counter
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from salescore.repositories.integrations.import_batches import ImportBatchUnitOfWork
from tests.api.integrations.import_support import errors_of, imported
from tests.api.integrations.webhook_factories import deliveries, listening, make_endpoint
from tests.factories import Tenant, make_user
from tests.opportunity_factories import make_contact, make_list_item, make_world, sql


async def _rows(app: FastAPI, statement: str, **params: Any) -> list[dict[str, Any]]:
    async with app.state.salescore.engine.begin() as connection:
        return [dict(r._mapping) for r in await connection.execute(text(statement), params)]


async def _what_was_left(app: FastAPI, tenant: Tenant, opportunity_id: int,
                         ) -> dict[str, Any]:
    """Everything a create leaves about one opportunity, without ids, names and times."""
    org = tenant.organization_id
    skip = {"id", "name", "external_id", "created_at", "updated_at", "closed_at",
            "changed_at", "at", "occurred_at", "opportunity_id", "aggregate_id"}

    def plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k not in skip and not k.endswith("_at")}
                for r in rows]

    return {
        "opportunity": plain(await _rows(
            app, "SELECT * FROM opportunities WHERE organization_id = :org AND id = :id",
            org=org, id=opportunity_id)),
        "sellers": plain(await _rows(
            app, "SELECT user_id, share, added_seq FROM opportunity_sellers "
                 "WHERE organization_id = :org AND opportunity_id = :id", org=org,
            id=opportunity_id)),
        "history": await sql(
            app, "SELECT count(*) FROM opportunity_history WHERE organization_id = :org "
                 "AND opportunity_id = :id", org=org, id=opportunity_id),
        "seller_history": await sql(
            app, "SELECT count(*) FROM opportunity_seller_history WHERE organization_id = "
                 ":org AND opportunity_id = :id", org=org, id=opportunity_id),
        "tasks": plain(await _rows(
            app, "SELECT kind, subject, origin, assignee_id, done, due_at::date AS due "
                 "FROM activities WHERE organization_id = :org AND opportunity_id = :id "
                 "ORDER BY id", org=org, id=opportunity_id)),
        "events": [r["type"] for r in await _rows(
            app, "SELECT type FROM events WHERE organization_id = :org AND ((aggregate_type"
                 " = 'opportunity' AND aggregate_id = :id) OR data->>'opportunity_id' = "
                 "CAST(:id AS text)) ORDER BY id",
            org=org, id=opportunity_id)],
        "notifications": sorted((r["user_id"], r["type"]) for r in await _rows(
            app, "SELECT user_id, type FROM notifications WHERE organization_id = :org "
                 "AND opportunity_id = :id", org=org, id=opportunity_id)),
    }


async def test_a_set_wise_batch_leaves_what_the_apis_creates_leave(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    world = await make_world(app, tenant)
    c, stages = world.customer_id, world.process.stages
    seller = await make_user(client, tenant)
    contact = await make_contact(app, tenant, c)
    reason = await make_list_item(app, tenant, "loss_reasons", "Price")
    source = await make_list_item(app, tenant, "sources", "Fair")
    bodies = [
        {"name": "Plain", "customer_id": c, "amount": "100.00"},
        {"name": "Followed", "customer_id": c, "amount": "250.50",
         "follow_up_date": "2027-03-01", "contact_id": contact, "source_id": source},
        {"name": "Seller's", "customer_id": c, "owner_id": seller["id"],
         "stage_id": stages["Quote"], "probability": "40.00"},
        {"name": "Gone", "customer_id": c, "stage_id": stages["Lost"],
         "loss_reason_id": reason, "loss_note": "too dear"},
        {"name": "Won", "customer_id": c, "stage_id": stages["Won"], "amount": "9.99"},
    ]
    by_api = []
    for body in bodies:
        made = await client.post("/v1/opportunities", json=body, headers=tenant.admin)
        assert made.status_code == 201, made.text
        by_api.append(made.json()["id"])
    tag = secrets.token_hex(3)
    file = (
        "name,customer_id,amount,follow_up_date,contact_id,source,owner_email,stage,"
        "probability,loss_reason,loss_note,external_id\n"
        f"Plain,{c},100.00,,,,,,,,,\n"
        f"Followed,{c},250.50,2027-03-01,{contact},fair,,,,,,{tag}-1\n"
        f"Seller's,{c},,,,,{seller['email'].upper()},quote,40,,,\n"
        f"Gone,{c},,,,,,Lost,,price,too dear,{tag}-2\n"
        f"Won,{c},9.99,,,,,won,,,,\n")
    job = await imported(client, app, tenant, file, resource="opportunities")
    assert (job["status"], job["rows_created"], job["rows_failed"]) == ("succeeded", 5, 0)
    by_import = [r["id"] for r in await _rows(
        app, "SELECT id FROM opportunities WHERE organization_id = :org AND id > :last "
             "ORDER BY id", org=tenant.organization_id, last=max(by_api))]
    assert len(by_import) == 5
    for api_id, import_id in zip(by_api, by_import, strict=True):
        assert await _what_was_left(app, tenant, import_id) == await _what_was_left(
            app, tenant, api_id)
    for api_id, import_id in zip(by_api, by_import, strict=True):
        read = [(await client.get(f"/v1/opportunities/{i}", headers=tenant.admin)).json()
                for i in (api_id, import_id)]
        for answer in read:
            for key in ("id", "name", "external_id", "created_at", "updated_at",
                        "closed_at", "version"):
                answer.pop(key, None)
        assert read[0] == read[1]


async def test_the_batch_is_one_insert_a_table_and_errors_keep_their_rows(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    """A statement trigger counts the rows of each INSERT into opportunities."""
    world = await make_world(app, tenant)
    c = world.customer_id
    other_customer = await make_world(app, tenant)
    contact_elsewhere = await make_contact(app, tenant, other_customer.customer_id)
    log = f"insert_log_{secrets.token_hex(3)}"
    await _count_inserts(app, log)
    try:
        good = "".join(f"Deal {i},{c},{i},,2027-01-{i % 28 + 1:02d}\n" for i in range(40))
        file = (f"name,customer_id,amount,contact_id,follow_up_date\n{good}"
                f"Bad amount,{c},-1,,\nWrong contact,{c},1,{contact_elsewhere},\n"
                f"No customer,999999999,1,,\n{good}")
        job = await imported(client, app, tenant, file, resource="opportunities")
        counts = [r["n"] for r in await _rows(app, f"SELECT n FROM {log} ORDER BY at")]
    finally:
        await _stop_counting(app, log)
    assert (job["rows_created"], job["rows_failed"]) == (80, 3)
    assert counts == [80]
    errors = await errors_of(client, tenant, job["id"])
    assert [(e["row"], e["field"]) for e in errors] == [
        (41, "amount"), (42, "contact_id"), (43, "customer_id")]
    tasks = await sql(app, "SELECT count(*) FROM activities WHERE organization_id = :org",
                      org=tenant.organization_id)
    assert tasks >= 80  # a follow-up task for each


async def test_a_batch_the_database_refuses_as_a_set_is_written_row_by_row(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    """A trigger refuses one row as the database would a row it cannot store: the set
    fails, and the batch goes again row by row, that row failing alone."""
    world = await make_world(app, tenant)
    c = world.customer_id
    name = f"refuse_{secrets.token_hex(3)}"
    await sql(app, f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "IF NEW.name = 'Poison' THEN RAISE EXCEPTION 'poisoned'; END IF; "
                   "RETURN NEW; END $$")
    await sql(app, f"CREATE TRIGGER {name} BEFORE INSERT ON opportunities FOR EACH ROW "
                   f"WHEN (NEW.organization_id = {tenant.organization_id}) "
                   f"EXECUTE FUNCTION {name}()")
    try:
        file = (f"name,customer_id,amount,external_id\nFine,{c},1,e1\nPoison,{c},2,e2\n"
                f"Also fine,{c},3,e3\n")
        job = await imported(client, app, tenant, file, resource="opportunities")
    finally:
        await sql(app, f"DROP TRIGGER {name} ON opportunities")
        await sql(app, f"DROP FUNCTION {name}()")
    assert (job["status"], job["rows_created"], job["rows_failed"]) == ("succeeded", 2, 1)
    [error] = await errors_of(client, tenant, job["id"])
    assert error["row"] == 2 and "poisoned" in error["message"]
    stored = await sql(app, "SELECT string_agg(external_id, ' ' ORDER BY external_id) FROM "
                            "opportunities WHERE organization_id = :org",
                       org=tenant.organization_id)
    assert stored == "e1 e3"
    events = await sql(app, "SELECT count(*) FROM events WHERE organization_id = :org AND "
                            "type = 'opportunity.created'", org=tenant.organization_id)
    assert events == 2  # the set's events went with it


async def _count_inserts(app: FastAPI, log: str) -> None:
    await sql(app, f"CREATE TABLE {log} (at timestamptz DEFAULT clock_timestamp(), n int)")
    await sql(app, f"CREATE FUNCTION {log}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   f"INSERT INTO {log} (n) SELECT count(*) FROM inserted; RETURN NULL; END $$")
    await sql(app, f"CREATE TRIGGER {log} AFTER INSERT ON opportunities REFERENCING NEW "
                   f"TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION {log}()")


async def _stop_counting(app: FastAPI, log: str) -> None:
    await sql(app, f"DROP TRIGGER {log} ON opportunities")
    await sql(app, f"DROP FUNCTION {log}()")
    await sql(app, f"DROP TABLE {log}")


async def test_a_batchs_events_keep_row_order_queue_their_webhooks_and_wake_the_workers(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    """A batch's events go in one statement: ids in the order of the rows, a delivery for
    each endpoint that takes the type, and the workers woken."""
    world = await make_world(app, tenant)
    c = world.customer_id
    created = await make_endpoint(client, tenant, event_types=["opportunity.created"])
    everything = await make_endpoint(client, tenant)
    paused = await make_endpoint(client, tenant, event_types=["opportunity.created"])
    off = await client.patch(f"/v1/webhook-endpoints/{paused['id']}", headers=tenant.admin,
                             json={"active": False})
    assert off.status_code == 200, off.text
    connection, heard = await listening(app)
    try:
        rows = "".join(f"Deal {i},{c},{i},2027-02-01\n" for i in range(30))
        job = await imported(client, app, tenant,
                             f"name,customer_id,amount,follow_up_date\n{rows}",
                             resource="opportunities")
        assert job["rows_created"] == 30
        assert await asyncio.wait_for(heard.get(), 5) == ""
    finally:
        await connection.close()
    made = await _rows(app, "SELECT aggregate_id, id FROM events WHERE organization_id = "
                            ":org AND type = 'opportunity.created' ORDER BY id",
                       org=tenant.organization_id)
    names = await _rows(app, "SELECT id, name FROM opportunities WHERE organization_id = "
                             ":org ORDER BY id", org=tenant.organization_id)
    assert [r["aggregate_id"] for r in made] == [r["id"] for r in names]
    assert [r["name"] for r in names] == [f"Deal {i}" for i in range(30)]
    assert len(await deliveries(client, tenant, created["id"])) == 30
    types = Counter(d["event_type"] for d in await deliveries(client, tenant,
                                                              everything["id"]))
    tasks = await sql(app, "SELECT count(*) FROM activities WHERE organization_id = :org",
                      org=tenant.organization_id)
    assert (types["opportunity.created"], types["activity.created"]) == (30, tasks)
    assert tasks >= 30
    assert await deliveries(client, tenant, paused["id"]) == []


async def test_atomic_100000_rows_with_one_bad_row_in_the_middle_write_nothing(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    """The suite's size of the issue's case (the bench runs 1,000,000)."""
    world = await make_world(app, tenant)
    c = world.customer_id
    half = "".join(f"Deal {i},{c},{i}.50\n" for i in range(50_000))
    tables = ("opportunities", "opportunity_sellers", "opportunity_history", "activities",
              "events", "notifications")
    count = "SELECT count(*) FROM {} WHERE organization_id = :org"
    before = [await sql(app, count.format(t), org=tenant.organization_id) for t in tables]
    job = await imported(client, app, tenant, f"name,customer_id,amount\n{half}Bad,{c},-1\n"
                         f"{half}", resource="opportunities", mode="atomic")
    assert (job["status"], job["rows_processed"], job["rows_failed"]) == ("failed", 100_001, 1)
    assert [e["row"] for e in await errors_of(client, tenant, job["id"])] == [50_001]
    assert [await sql(app, count.format(t), org=tenant.organization_id)
            for t in tables] == before


async def test_a_batch_rolled_back_keeps_the_placing_lock(app: FastAPI, tenant: Tenant):
    """The placing lock is taken before the batch's savepoint: rolling back to it leaves the
    lock held, as the row-by-row writing that follows needs."""
    uow = ImportBatchUnitOfWork(app.state.salescore.sessions)
    await uow.open()
    try:
        await uow.begin(tenant.organization_id, [], owners=(), existing={})
        await uow.undo()
        held = (await uow.session.execute(text(
            "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() "
            "AND locktype = 'advisory' AND granted"))).scalar()
    finally:
        await uow.close(commit=False)
    assert held == 1
