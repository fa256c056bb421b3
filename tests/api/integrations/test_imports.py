"""Bulk imports through the API: upload, run (as the worker would), progress, errors."""

import csv
import io
import json
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.api.integrations.import_support import errors_of, imported, run_queued, upload
from tests.factories import Tenant, make_user
from tests.opportunity_factories import make_customer, make_list_item, make_world, sql


async def _count(app: FastAPI, tenant: Tenant, table: str) -> int:
    found: int = await sql(app, f"SELECT count(*) FROM {table} WHERE organization_id = :org",
                           org=tenant.organization_id)
    return found


async def _write_counts(app: FastAPI, tenant: Tenant) -> dict[str, int]:
    tables = ("customers", "contacts", "opportunities", "opportunity_sellers",
              "opportunity_history", "activities", "events", "notifications")
    return {t: await _count(app, tenant, t) for t in tables}


async def test_opportunity_rows_are_created_updated_or_left_as_they_are_by_external_id(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    world = await make_world(app, tenant)
    c = world.customer_id
    first = f"name,customer_id,amount,external_id\nA,{c},100.50,x1\nB,{c},10,x2\n"
    job = await imported(client, app, tenant, first, resource="opportunities")
    assert (job["status"], job["rows_total"], job["rows_processed"], job["rows_created"],
            job["rows_failed"]) == ("succeeded", 2, 2, 2, 0)
    again = f"name,customer_id,amount,external_id\nA,{c},100.50,x1\nB2,{c},10,x2\nC,{c},1,x3\n"
    x1 = await sql(app, "SELECT id FROM opportunities WHERE external_id = 'x1'")
    version = await sql(app, "SELECT version FROM opportunities WHERE id = :id", id=x1)
    events = "SELECT count(*) FROM events WHERE aggregate_id = :id AND organization_id = :org"
    before = await sql(app, events, id=x1, org=tenant.organization_id)
    job = await imported(client, app, tenant, again, resource="opportunities")
    assert (job["rows_created"], job["rows_updated"], job["rows_unchanged"]) == (1, 1, 1)
    names = await sql(app, "SELECT string_agg(external_id || '=' || name || '/' || amount, ' '"
                           " ORDER BY external_id) FROM opportunities WHERE organization_id = "
                           ":org", org=tenant.organization_id)
    assert names == "x1=A/100.50 x2=B2/10.00 x3=C/1.00"
    # the unchanged row wrote nothing
    assert await sql(app, events, id=x1, org=tenant.organization_id) == before
    assert await sql(app, "SELECT version FROM opportunities WHERE id = :id", id=x1) == version


async def test_an_imported_opportunity_gets_what_the_apis_create_gives_it(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    world = await make_world(app, tenant)
    body = {"name": "By API", "customer_id": world.customer_id, "amount": "500.00",
            "follow_up_date": "2027-01-15"}
    made = await client.post("/v1/opportunities", json=body, headers=tenant.admin)
    assert made.status_code == 201
    row = f"name,customer_id,amount,follow_up_date\nBy import,{world.customer_id},500.00," \
          "2027-01-15\n"
    job = await imported(client, app, tenant, row, resource="opportunities")
    assert job["rows_created"] == 1
    listed = (await client.get("/v1/opportunities", params={"sort": "id"},
                               headers=tenant.admin)).json()["data"]
    by_api, by_import = listed

    def shape(o: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in o.items() if k not in {"id", "name", "created_at",
                                                        "updated_at", "sellers"}}

    assert shape(by_import) == shape(by_api)
    assert [s["user_id"] for s in by_import["sellers"]] == [tenant.admin_id]
    for table, column in (("activities", "opportunity_id"),
                          ("opportunity_history", "opportunity_id"),
                          ("events", "aggregate_id")):
        counts = [await sql(app, f"SELECT count(*) FROM {table} WHERE organization_id = :org"
                                 f" AND {column} = :id", org=tenant.organization_id, id=o["id"])
                  for o in (by_api, by_import)]
        assert counts[0] == counts[1] > 0, table


async def test_references_by_external_id_email_and_name(client: AsyncClient, app: FastAPI,
                                                        tenant: Tenant):
    world = await make_world(app, tenant)
    await sql(app, "UPDATE customers SET external_id = 'crm-7' WHERE id = :id",
              id=world.customer_id)
    seller = await make_user(client, tenant, name="Siri Seller")
    await make_list_item(app, tenant, "sources", "Web form")
    await make_list_item(app, tenant, "opportunity_types", "New business")
    campaign = await make_list_item(app, tenant, "campaigns", "Spring 2027")
    stage = next(iter(world.process.stages))
    rows = ("name,customer_external_id,owner_email,source,type,campaign,stage\n"
            f"Deal,crm-7,{seller['email'].upper()},web FORM,New business,Spring 2027,{stage}\n"
            "Bad,crm-404,nobody@x.test,Radio,New business,Spring 2027,\n")
    job = await imported(client, app, tenant, rows, resource="opportunities")
    assert (job["rows_created"], job["rows_failed"]) == (1, 1)
    [deal] = (await client.get("/v1/opportunities", headers=tenant.admin)).json()["data"]
    assert (deal["customer_id"], deal["owner_id"], deal["campaign_id"],
            deal["stage_id"]) == (world.customer_id, seller["id"], campaign,
                                  world.process.stages[stage])
    errors = await errors_of(client, tenant, job["id"])
    assert {(e["row"], e["field"]) for e in errors} == {
        (2, "customer_external_id"), (2, "owner_email"), (2, "source")}


async def test_csv_with_a_bom_semicolons_a_decimal_comma_and_quoted_line_breaks(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    world = await make_world(app, tenant)
    rows = (f'\ufeffname;customer_id;amount;description\r\n'
            f'"Nord; Sør";{world.customer_id};1234,50;"two\r\nlines, and a ""quote"""\r\n')
    job = await imported(client, app, tenant, rows.encode(), resource="opportunities")
    assert (job["rows_created"], job["rows_failed"]) == (1, 0), job
    [deal] = (await client.get("/v1/opportunities", headers=tenant.admin)).json()["data"]
    assert (deal["name"], deal["amount"], deal["description"]) == (
        "Nord; Sør", "1234.50", 'two\r\nlines, and a "quote"')


async def test_customers_from_ndjson_upsert_as_the_put_does(client: AsyncClient,
                                                            app: FastAPI, tenant: Tenant):
    lines = ('{"name": "Fjord AS", "external_id": "c1", "phone": "555"}\n'
             '\n'
             '{"name": "Berg AS"}\n')
    job = await imported(client, app, tenant, lines, fmt="ndjson", resource="customers")
    assert (job["format"], job["rows_created"], job["rows_total"]) == ("ndjson", 2, 2)
    job = await imported(client, app, tenant, '{"name": "Fjord AS", "external_id": "c1"}',
                         fmt="ndjson", resource="customers")
    assert job["rows_updated"] == 1
    phone = await sql(app, "SELECT phone FROM customers WHERE external_id = 'c1' AND "
                           "organization_id = :org", org=tenant.organization_id)
    assert phone is None  # the row is the whole customer, as PUT by external id takes it


async def test_ndjson_decimals_may_be_json_numbers_read_as_the_digits_written(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    """The API takes decimals as strings only; a file's numbers are read exactly (a float
    would make 123456789012345.67 ...45.671875, and 0.1 + 0.2 more than 0.3)."""
    world = await make_world(app, tenant)
    c = world.customer_id
    lines = (f'{{"name": "A", "customer_id": {c}, "amount": 123456789012345.67, '
             f'"probability": 25, "margin_amount": -0.10, "external_id": "n1"}}\n'
             f'{{"name": "B", "customer_id": {c}, "amount": 1e3, "external_id": "n2"}}\n'
             f'{{"name": "C", "customer_id": {c}, "amount": "12.50", "external_id": "n3"}}\n'
             f'{{"name": "D", "customer_id": {c}, "amount": 0.005, "external_id": "n4"}}\n')
    job = await imported(client, app, tenant, lines, fmt="ndjson", resource="opportunities")
    assert (job["rows_created"], job["rows_failed"]) == (3, 1)
    stored = await sql(app, "SELECT string_agg(external_id || '=' || amount || '/' || "
                            "probability || '/' || coalesce(margin_amount::text, '-'), ' ' "
                            "ORDER BY external_id) FROM opportunities WHERE organization_id "
                            "= :org", org=tenant.organization_id)
    assert stored == "n1=123456789012345.67/25.00/-0.10 n2=1000.00/10.00/- n3=12.50/10.00/-"
    errors = await errors_of(client, tenant, job["id"])
    assert [(e["row"], e["field"]) for e in errors] == [(4, "amount")]


async def test_contacts_and_activities_by_references(client: AsyncClient, app: FastAPI,
                                                     tenant: Tenant):
    customer = await make_customer(app, tenant, "Havn AS")
    await sql(app, "UPDATE customers SET external_id = 'h1' WHERE id = :id", id=customer)
    job = await imported(client, app, tenant,
                         "name,email,customer_external_id,external_id\n"
                         "Kari,kari@havn.test,h1,k1\nOla,ola@havn.test,h2,k2\n",
                         resource="contacts")
    assert (job["rows_created"], job["rows_failed"]) == (1, 1)
    seller = await make_user(client, tenant)
    job = await imported(client, app, tenant,
                         "kind,subject,contact_external_id,customer_external_id,assignee_email,"
                         "done\ncall,Ring Kari,k1,h1," + seller["email"] + ",TRUE\n",
                         resource="activities")
    assert job["rows_created"] == 1, await errors_of(client, tenant, job["id"])
    [activity] = (await client.get("/v1/activities", params={"kind": "call"},
                                   headers=tenant.admin)).json()["data"]
    assert (activity["customer_id"], activity["assignee_id"], activity["done"]) == (
        customer, seller["id"], True)


async def test_validate_only_reports_what_a_real_run_would_and_writes_nothing(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    world = await make_world(app, tenant)
    c = world.customer_id
    rows = (f"name,customer_id,amount,external_id\nA,{c},1,e1\n,{c},1,e2\nB,{c},-5,e3\n"
            f"C,{c},2,e1\nD,{c},3,e4,extra\nE,{c + 1000},1,\n")
    before = await _write_counts(app, tenant)
    checked = await imported(client, app, tenant, rows, resource="opportunities",
                             validate_only=True)
    assert await _write_counts(app, tenant) == before
    real = await imported(client, app, tenant, rows, resource="opportunities")
    counts = ("status", "rows_total", "rows_processed", "rows_created", "rows_updated",
              "rows_unchanged", "rows_failed")
    assert [checked[k] for k in counts] == [real[k] for k in counts]
    assert real["rows_created"] == 1 and real["rows_failed"] == 5
    assert await errors_of(client, tenant, checked["id"]) == await errors_of(
        client, tenant, real["id"])


async def test_atomic_writes_nothing_when_a_row_is_bad_and_reports_every_bad_row(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    world = await make_world(app, tenant)
    c = world.customer_id
    good = "".join(f"Deal {i},{c},{i}\n" for i in range(3000))
    rows = f"name,customer_id,amount\n{good}Bad,{c},-1\n{good}Worse,,1\n"
    before = await _write_counts(app, tenant)
    job = await imported(client, app, tenant, rows, resource="opportunities", mode="atomic")
    assert (job["status"], job["rows_processed"], job["rows_failed"]) == ("failed", 6002, 2)
    assert await _write_counts(app, tenant) == before
    assert [e["row"] for e in await errors_of(client, tenant, job["id"])] == [3001, 6002]
    fine = await imported(client, app, tenant, f"name,customer_id,amount\n{good}",
                          resource="opportunities", mode="atomic")
    assert (fine["status"], fine["rows_created"]) == ("succeeded", 3000)


async def test_the_errors_as_csv_can_be_fixed_and_sent_again(client: AsyncClient,
                                                             app: FastAPI, tenant: Tenant):
    world = await make_world(app, tenant)
    c = world.customer_id
    rows = f"name,customer_id,amount\nGood,{c},1\n=cmd,{c},-1\nToo,{c},1,many\n"
    job = await imported(client, app, tenant, rows, resource="opportunities")
    response = await client.get(f"/v1/imports/{job['id']}/errors", params={"format": "csv"},
                                headers=tenant.admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    failed = list(csv.reader(io.StringIO(response.text)))
    assert failed[0] == ["name", "customer_id", "amount", "error"]
    assert failed[1][:3] == ["=cmd", str(c), "-1"] and "amount" in failed[1][3]
    assert failed[2][:4] == ["Too", str(c), "1", "many"]
    fixed = io.StringIO()
    writer = csv.writer(fixed)
    writer.writerow(failed[0])
    writer.writerow(["Fixed", str(c), "1", failed[1][3]])
    again = await imported(client, app, tenant, fixed.getvalue(), resource="opportunities")
    assert (again["rows_created"], again["rows_failed"]) == (1, 0)
    as_ndjson = await client.get(f"/v1/imports/{job['id']}/errors",
                                 params={"format": "ndjson"}, headers=tenant.admin)
    first = json.loads(as_ndjson.text.splitlines()[0])
    assert first["name"] == "=cmd" and "amount" in first["error"]


async def test_a_semicolon_files_errors_come_back_with_semicolons_and_go_in_again(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    """A `;` file's failed rows are written with `;`, their decimal commas as sent: the file
    fixed goes back as it is."""
    world = await make_world(app, tenant)
    c = world.customer_id
    rows = f"name;customer_id;amount\nGood;{c};1234,50\nBad;{c};-1,25\nWorse;;7,00\n"
    job = await imported(client, app, tenant, rows, resource="opportunities")
    assert (job["rows_created"], job["rows_failed"]) == (1, 2)
    response = await client.get(f"/v1/imports/{job['id']}/errors", params={"format": "csv"},
                                headers=tenant.admin)
    assert response.status_code == 200
    lines = response.text.splitlines()
    assert lines[0] == "name;customer_id;amount;error"
    assert lines[1].startswith(f"Bad;{c};-1,25;") and lines[2].startswith("Worse;;7,00;")
    fixed = response.text.replace("-1,25", "1,25").replace("Worse;;", f"Worse;{c};")
    again = await imported(client, app, tenant, fixed, resource="opportunities")
    assert (again["rows_created"], again["rows_failed"]) == (2, 0)
    amounts = await sql(app, "SELECT string_agg(amount::text, ' ' ORDER BY amount) FROM "
                             "opportunities WHERE organization_id = :org",
                        org=tenant.organization_id)
    assert amounts == "1.25 7.00 1234.50"


async def test_ndjson_failed_rows_as_csv_take_their_keys_as_columns(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    lines = '{"name": ""}\n{"name": "Ok"}\n{"phone": "1", "name": "x", "colour": "red"}\n[]\n'
    job = await imported(client, app, tenant, lines, fmt="ndjson", resource="customers")
    assert (job["rows_created"], job["rows_failed"]) == (1, 3)
    errors = await errors_of(client, tenant, job["id"])
    assert [(e["row"], e["field"]) for e in errors] == [(1, "name"), (3, "colour"),
                                                        (4, None)]
    response = await client.get(f"/v1/imports/{job['id']}/errors", params={"format": "csv"},
                                headers=tenant.admin)
    failed = list(csv.reader(io.StringIO(response.text)))
    assert failed[0] == ["name", "phone", "colour", "line", "error"]  # line: not an object
    assert failed[2][:3] == ["x", "1", "red"]


async def test_a_file_that_cannot_be_read_fails_the_import_saying_why(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    world = await make_world(app, tenant)
    cases = {
        b"name,customer_id,colour\nA,1,red\n": "colour",
        b"customer_id,amount\n1,2\n": "name",
        b"name,customer_id\n\xff\xfe,1\n": "UTF-8",
        b"": "empty",
        b'name,customer_id\n"open,1\n': "never closed",
        b"name,,customer_id\nA,,1\n": "no name",
    }
    for body, said in cases.items():
        job = await imported(client, app, tenant, body, resource="opportunities")
        assert job["status"] == "failed", body
        assert said in job["error"]["detail"], (body, job["error"])
    header_only = await imported(client, app, tenant, b"name,customer_id\n",
                                 resource="opportunities")
    assert (header_only["status"], header_only["rows_total"]) == ("succeeded", 0)
    assert world.customer_id


async def test_row_errors_a_long_field_and_a_row_of_too_many_fields(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    world = await make_world(app, tenant)
    long = "x" * 10_000_000
    rows = f"name,customer_id\n{long},{world.customer_id}\nA,{world.customer_id},3\nB,1\n"
    job = await imported(client, app, tenant, rows, resource="opportunities")
    assert (job["status"], job["rows_failed"], job["rows_created"]) == ("succeeded", 3, 0)
    errors = await errors_of(client, tenant, job["id"])
    assert [(e["row"], e["field"]) for e in errors][:2] == [(1, "name"), (2, None)]


async def test_the_upload_is_refused_before_anything_is_queued(client: AsyncClient,
                                                               tenant: Tenant):
    cases = [
        ({"resource": "unicorns"}, "text/csv", 422),
        ({"resource": "customers", "format": "xml"}, "text/csv", 422),
        ({"resource": "customers"}, "application/json", 415),
        ({"resource": "customers"}, "application/x-www-form-urlencoded", 415),
        ({"resource": "customers", "format": "ndjson"}, "text/csv", 415),
        ({"resource": "customers", "mode": "sometimes"}, "text/csv", 422),
        ({"resource": "customers", "default_owner_id": "999999"}, "text/csv", 404),
    ]
    for params, media, expected in cases:
        response = await client.post("/v1/imports", params=params, content=b"name\nA\n",
                                     headers={"Content-Type": media, **tenant.admin})
        assert response.status_code == expected, (params, media, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    listed = await client.get("/v1/imports", headers=tenant.admin)
    assert listed.json()["data"] == []


async def test_an_upload_past_the_limit_is_413_and_queues_nothing(settings: Any,
                                                                   database_url: str):
    from tests.api.quotes.test_public_bounds import served

    async with served(settings, database_url, import_max_bytes=1000) as (app, http):
        from tests.factories import new_tenant
        tenant = await new_tenant(app, "Big")
        body = b"name\n" + b"A\n" * 600
        response = await http.post("/v1/imports", params={"resource": "customers"},
                                   content=body,
                                   headers={"Content-Type": "text/csv", **tenant.admin})
        assert response.status_code == 413
        small = await http.post("/v1/imports", params={"resource": "customers"},
                                content=b"name\nA\n",
                                headers={"Content-Type": "text/csv", **tenant.admin})
        assert small.status_code == 202
        assert await _count(app, tenant, "imports") == 1


async def test_an_idempotency_key_gives_the_first_import_again(client: AsyncClient,
                                                                tenant: Tenant):
    headers = {**tenant.admin, "Idempotency-Key": "upload-1"}
    first = await upload(client, tenant, "name\nA\n", resource="customers", headers=headers)
    response = await client.post("/v1/imports", params={"resource": "customers"},
                                 content=b"name\nA\n",
                                 headers={"Content-Type": "text/csv", **headers})
    assert response.status_code == 202
    assert response.json()["id"] == first["id"]
    assert response.headers["idempotent-replayed"] == "true"


async def test_cancel_a_queued_import_and_not_an_ended_one(client: AsyncClient, app: FastAPI,
                                                          tenant: Tenant):
    job = await upload(client, tenant, "name\nA\n", resource="customers")
    response = await client.post(f"/v1/imports/{job['id']}/cancel", headers=tenant.admin)
    assert response.json()["status"] == "cancelled"
    await run_queued(app)
    assert await _count(app, tenant, "customers") == 0
    again = await client.post(f"/v1/imports/{job['id']}/cancel", headers=tenant.admin)
    assert again.status_code == 409


async def test_a_cancel_stops_a_running_import_between_batches(client: AsyncClient,
                                                              app: FastAPI, tenant: Tenant):
    from salescore.api.v1.integrations.import_rows import ImportRowRules
    from salescore.repositories.unit_of_work import UnitOfWork
    from salescore.services.integrations.imports import claim_import, run_import

    rows = "name\n" + "".join(f"C{i}\n" for i in range(5000))
    job = await upload(client, tenant, rows, resource="customers")
    sessions = app.state.salescore.sessions
    claimed = await claim_import(UnitOfWork(sessions))
    assert claimed is not None
    cancel = await client.post(f"/v1/imports/{job['id']}/cancel", headers=tenant.admin)
    assert cancel.json()["status"] == "running"
    status = await run_import(sessions, ImportRowRules(), claimed)
    assert status.value == "cancelled"
    ended = (await client.get(f"/v1/imports/{job['id']}", headers=tenant.admin)).json()
    assert ended["status"] == "cancelled" and ended["rows_processed"] == 2000
    assert await _count(app, tenant, "customers") == 2000  # per_row keeps its batches


async def test_another_organizations_import_is_not_found(client: AsyncClient, app: FastAPI,
                                                         tenant: Tenant, other_tenant: Tenant):
    job = await upload(client, tenant, "name\nA\n", resource="customers")
    for path in ("", "/errors", "/errors?format=csv"):
        response = await client.get(f"/v1/imports/{job['id']}{path}",
                                    headers=other_tenant.admin)
        assert response.status_code == 404, path
    cancel = await client.post(f"/v1/imports/{job['id']}/cancel", headers=other_tenant.admin)
    assert cancel.status_code == 404
    assert (await client.get("/v1/imports", headers=other_tenant.admin)).json()["data"] == []


async def test_rows_write_only_into_the_callers_organization(
        client: AsyncClient, app: FastAPI, tenant: Tenant, other_tenant: Tenant):
    await make_world(app, tenant)
    theirs = await make_customer(app, other_tenant, "Theirs AS")
    await sql(app, "UPDATE customers SET external_id = 'same' WHERE id = :id", id=theirs)
    job = await imported(client, app, tenant, "name,external_id\nOurs AS,same\n",
                         resource="customers")
    assert job["rows_created"] == 1
    assert await sql(app, "SELECT name FROM customers WHERE id = :id", id=theirs) == "Theirs AS"
    job = await imported(client, app, tenant, f"name,customer_id\nSneaky,{theirs}\n",
                         resource="opportunities")
    assert job["rows_failed"] == 1
    [error] = await errors_of(client, tenant, job["id"])
    assert error["field"] == "customer_id"
    contacts = await imported(client, app, tenant,
                              f"name,customer_id\nSpy,{theirs}\n", resource="contacts")
    assert contacts["rows_failed"] == 1
    assert await _count(app, other_tenant, "contacts") == 0


async def test_an_api_key_without_the_resources_scope_is_refused(client: AsyncClient,
                                                                 tenant: Tenant):
    made = await client.post("/v1/api-keys", json={"name": "reader",
                                                   "scopes": ["customers:read"]},
                             headers=tenant.admin)
    key = {"Authorization": f"Bearer {made.json()['secret']}"}
    response = await client.post("/v1/imports", params={"resource": "customers"},
                                 content=b"name\nA\n", headers={"Content-Type": "text/csv",
                                                                 **key})
    assert response.status_code == 403
    assert (await client.get("/v1/imports", headers=key)).status_code == 403


@pytest.mark.parametrize(("scopes", "upload", "listing"), [
    (["customers:write"], 403, 403),
    (["imports:write", "imports:read"], 403, 403),
    (["imports:write", "customers:write"], 202, 403),
    (["imports:write", "imports:read", "customers:write"], 202, 200)])
async def test_an_import_needs_the_imports_scope_and_its_resources(
        client: AsyncClient, tenant: Tenant, scopes: list[str], upload: int, listing: int):
    made = await client.post("/v1/api-keys", json={"name": "loader", "scopes": scopes},
                             headers=tenant.admin)
    key = {"Authorization": f"Bearer {made.json()['secret']}"}
    response = await client.post("/v1/imports", params={"resource": "customers"},
                                 content=b"name\nA\n", headers={"Content-Type": "text/csv",
                                                                 **key})
    assert response.status_code == upload, response.text
    assert (await client.get("/v1/imports", headers=key)).status_code == listing


async def test_an_api_key_without_an_owner_gets_row_errors_for_opportunities(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    world = await make_world(app, tenant)
    rows = f"name,customer_id\nA,{world.customer_id}\n"
    job = await upload(client, tenant, rows, resource="opportunities", headers=tenant.key)
    await run_queued(app)
    [error] = await errors_of(client, tenant, job["id"])
    assert error["field"] == "owner_id"
    job = await upload(client, tenant, rows, resource="opportunities", headers=tenant.key,
                       default_owner_id=tenant.admin_id)
    await run_queued(app)
    ended = (await client.get(f"/v1/imports/{job['id']}", headers=tenant.admin)).json()
    assert ended["rows_created"] == 1


async def test_the_list_filters_and_pages(client: AsyncClient, app: FastAPI, tenant: Tenant):
    for _ in range(3):
        await upload(client, tenant, "name\nA\n", resource="customers")
    await run_queued(app)
    await upload(client, tenant, "name\nA\n", resource="customers", validate_only=True)
    page = (await client.get("/v1/imports", params={"limit": 2, "sort": "-id"},
                             headers=tenant.admin)).json()
    assert len(page["data"]) == 2 and page["next_cursor"]
    queued = (await client.get("/v1/imports", params={"status": "queued"},
                               headers=tenant.admin)).json()["data"]
    assert [j["validate_only"] for j in queued] == [True]
