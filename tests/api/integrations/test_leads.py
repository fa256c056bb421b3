"""Lead intake (POST /v1/leads): customer, contact and opportunity matched or created in one
transaction; matched records never changed; names for type, source and campaign; the
owner; the follow-up rules of any create; resends, races, tenants and scopes."""

import asyncio
import secrets
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from tests.factories import Tenant, make_user, read_events
from tests.opportunity_factories import (
    World,
    create_opportunity,
    make_list_item,
    make_world,
    sql,
)

COUNTED = ("customers", "contacts", "opportunities", "activities", "events")


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await make_world(app, tenant)


def _lead(*, contact: bool = True, **opportunity: Any) -> dict[str, Any]:
    """A lead whose external ids and organization number no other lead has."""
    tag = secrets.token_hex(4)
    body: dict[str, Any] = {
        "customer": {"name": f"Fjord {tag} AS", "external_id": f"cus-{tag}",
                     "org_number": f"9{tag}"},
        "opportunity": {"name": f"Fleet {tag}", "external_id": f"opp-{tag}",
                        "amount": "1000.00", **opportunity},
    }
    if contact:
        body["contact"] = {"name": "Kari Nordmann", "email": f"kari-{tag}@fjord.test",
                           "external_id": f"con-{tag}"}
    return body


async def _post(client: AsyncClient, tenant: Tenant, body: dict[str, Any], *,
                headers: dict[str, str] | None = None, expect: int = 201) -> dict[str, Any]:
    response = await client.post("/v1/leads", json=body, headers=headers or tenant.admin)
    assert response.status_code == expect, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _get(client: AsyncClient, tenant: Tenant, path: str) -> dict[str, Any]:
    response = await client.get(path, headers=tenant.admin)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def _counts(app: FastAPI, tenant: Tenant) -> dict[str, int]:
    return {table: await sql(app, f"SELECT count(*) FROM {table} WHERE organization_id = :org",
                             org=tenant.organization_id) for table in COUNTED}


async def _tasks(client: AsyncClient, tenant: Tenant,
                 opportunity_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/opportunities/{opportunity_id}/activities",
                                params={"sort": "id"}, headers=tenant.admin)
    assert response.status_code == 200, response.text
    tasks: list[dict[str, Any]] = response.json()["data"]
    return tasks


def _fields(problem: Response) -> list[str]:
    return [e["field"] for e in problem.json().get("errors", [])]


async def test_a_new_lead_creates_its_customer_contact_and_opportunity(
        client: AsyncClient, tenant: Tenant, world: World):
    body = _lead()
    answer = await _post(client, tenant, body)
    assert answer["customer"]["created"] and answer["contact"]["created"]
    assert answer["opportunity"]["created"]
    customer = await _get(client, tenant, f"/v1/customers/{answer['customer']['id']}")
    contact = await _get(client, tenant, f"/v1/contacts/{answer['contact']['id']}")
    opportunity = await _get(client, tenant,
                             f"/v1/opportunities/{answer['opportunity']['id']}")
    assert (customer["name"], customer["external_id"], customer["org_number"]) == (
        body["customer"]["name"], body["customer"]["external_id"],
        body["customer"]["org_number"])
    assert (contact["customer_id"], contact["external_id"], contact["email"]) == (
        customer["id"], body["contact"]["external_id"], body["contact"]["email"])
    assert (opportunity["customer_id"], opportunity["contact_id"],
            opportunity["external_id"], opportunity["amount"]) == (
        customer["id"], contact["id"], body["opportunity"]["external_id"], "1000.00")
    assert (opportunity["owner_id"], opportunity["sales_process_id"],
            opportunity["stage_id"]) == (tenant.admin_id, world.process.id,
                                         world.process.stages["Lead"])
    assert opportunity["sellers"] == [{"user_id": tenant.admin_id, "share": "100.00"}]


async def test_the_contact_is_optional(client: AsyncClient, tenant: Tenant, world: World):
    answer = await _post(client, tenant, _lead(contact=False))
    assert answer["contact"] is None
    opportunity = await _get(client, tenant,
                             f"/v1/opportunities/{answer['opportunity']['id']}")
    assert opportunity["contact_id"] is None


async def test_the_customer_is_matched_by_external_id_before_org_number(
        client: AsyncClient, tenant: Tenant, world: World):
    by_id = await client.post("/v1/customers", headers=tenant.admin,
                              json={"name": "By id", "external_id": "crm-1"})
    by_number = await client.post("/v1/customers", headers=tenant.admin,
                                  json={"name": "By number", "org_number": "911111111"})
    body = _lead()
    body["customer"] |= {"external_id": "crm-1", "org_number": "911111111"}
    answer = await _post(client, tenant, body)
    assert answer["customer"] == {"id": by_id.json()["id"], "created": False}
    body = _lead()
    body["customer"] |= {"external_id": "crm-unknown", "org_number": "911111111"}
    answer = await _post(client, tenant, body)
    assert answer["customer"] == {"id": by_number.json()["id"], "created": False}
    body = _lead()
    body["customer"].pop("external_id")
    body["customer"]["org_number"] = "911111111"
    answer = await _post(client, tenant, body)
    assert answer["customer"] == {"id": by_number.json()["id"], "created": False}
    contact = await _get(client, tenant, f"/v1/contacts/{answer['contact']['id']}")
    assert contact["customer_id"] == by_number.json()["id"]


async def test_a_customer_with_neither_key_is_created_each_time(
        client: AsyncClient, tenant: Tenant, world: World):
    body = _lead(contact=False)
    body["customer"] = {"name": "Walk-in"}
    first = await _post(client, tenant, body)
    body["opportunity"].pop("external_id")
    second = await _post(client, tenant, body)
    assert first["customer"]["id"] != second["customer"]["id"]
    assert second["customer"]["created"]


async def test_the_contact_is_matched_by_external_id_then_by_email_within_the_customer(
        client: AsyncClient, tenant: Tenant, world: World):
    first = await _post(client, tenant, _lead())
    customer_id = first["customer"]["id"]
    listed = await client.post(f"/v1/customers/{customer_id}/contacts", headers=tenant.admin,
                               json={"name": "Ola", "email": "Ola@Fjord.test",
                                     "external_id": "hub-7"})
    ola = listed.json()["id"]
    customer = await _get(client, tenant, f"/v1/customers/{customer_id}")
    body = _lead()
    body["customer"] = {"name": "x", "external_id": customer["external_id"]}
    body["contact"] = {"name": "Ola N.", "external_id": "hub-7", "email": "other@x.test"}
    answer = await _post(client, tenant, body)
    assert answer["contact"] == {"id": ola, "created": False}
    body = _lead()
    body["customer"] = {"name": "x", "external_id": customer["external_id"]}
    body["contact"] = {"name": "Ola N.", "email": "ola@fjord.TEST", "external_id": "new-7"}
    answer = await _post(client, tenant, body)
    assert answer["contact"] == {"id": ola, "created": False}
    opportunity = await _get(client, tenant,
                             f"/v1/opportunities/{answer['opportunity']['id']}")
    assert opportunity["contact_id"] == ola
    elsewhere = _lead()
    elsewhere["contact"] = {"name": "Ola", "email": "ola@fjord.test"}
    answer = await _post(client, tenant, elsewhere)
    assert answer["contact"]["created"] and answer["contact"]["id"] != ola


async def test_a_contact_external_id_of_another_customers_contact_is_a_conflict(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    first = _lead()
    await _post(client, tenant, first)
    before = await _counts(app, tenant)
    body = _lead()
    body["contact"]["external_id"] = first["contact"]["external_id"]
    await _post(client, tenant, body, expect=409)
    assert await _counts(app, tenant) == before


async def test_the_opportunity_is_matched_by_external_id(
        client: AsyncClient, tenant: Tenant, world: World):
    existing = await create_opportunity(client, tenant, world.customer_id,
                                        external_id="deal-9")
    body = _lead(contact=False, external_id="deal-9")
    answer = await _post(client, tenant, body)
    assert answer["opportunity"] == {"id": existing["id"], "created": False}
    assert answer["customer"]["created"]


async def test_matched_records_are_never_changed(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    first = _lead()
    answer = await _post(client, tenant, first)
    paths = [f"/v1/customers/{answer['customer']['id']}",
             f"/v1/contacts/{answer['contact']['id']}",
             f"/v1/opportunities/{answer['opportunity']['id']}"]
    before = [await _get(client, tenant, path) for path in paths]
    counts = await _counts(app, tenant)
    again = _lead(description="Other", follow_up_date="2027-01-15")
    again["customer"] = {**first["customer"], "name": "Renamed AS", "email": "new@x.test"}
    again["contact"] = {**first["contact"], "name": "Renamed", "phone": "123"}
    again["opportunity"]["external_id"] = first["opportunity"]["external_id"]
    again["opportunity"]["amount"] = "99.00"
    answer = await _post(client, tenant, again, expect=200)
    assert [answer[part]["created"] for part in ("customer", "contact", "opportunity")] == [
        False, False, False]
    assert [await _get(client, tenant, path) for path in paths] == before
    assert await _counts(app, tenant) == counts


@pytest.mark.parametrize(("field", "table"), [("source", "sources"),
                                              ("campaign", "campaigns"),
                                              ("type", "opportunity_types")])
async def test_an_unknown_name_is_a_422_naming_the_field_and_nothing_is_written(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World, field: str,
        table: str):
    await make_list_item(app, tenant, table, "Known")
    before = await _counts(app, tenant)
    response = await client.post("/v1/leads", json=_lead(**{field: "Unknown"}),
                                 headers=tenant.admin)
    assert response.status_code == 422, response.text
    assert _fields(response) == [f"opportunity.{field}"]
    assert await _counts(app, tenant) == before


async def test_names_stand_for_their_records_whatever_the_case(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    source = await make_list_item(app, tenant, "sources", "Web Form")
    kind = await make_list_item(app, tenant, "opportunity_types", "New business")
    await sql(app, "INSERT INTO campaigns (organization_id, name, active) "
                   "VALUES (:org, 'Spring', false)", org=tenant.organization_id)
    campaign = await make_list_item(app, tenant, "campaigns", "Spring")
    answer = await _post(client, tenant, _lead(source="web form", type="NEW BUSINESS",
                                               campaign="spring"))
    opportunity = await _get(client, tenant,
                             f"/v1/opportunities/{answer['opportunity']['id']}")
    assert (opportunity["source_id"], opportunity["type_id"],
            opportunity["campaign_id"]) == (source, kind, campaign)


async def test_a_name_several_active_campaigns_share_is_refused(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    await make_list_item(app, tenant, "campaigns", "Webinar")
    await make_list_item(app, tenant, "campaigns", "Webinar")
    response = await client.post("/v1/leads", json=_lead(campaign="Webinar"),
                                 headers=tenant.admin)
    assert response.status_code == 422, response.text
    assert _fields(response) == ["opportunity.campaign"]


async def test_a_reference_given_by_name_and_by_id_is_refused(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    source = await make_list_item(app, tenant, "sources", "Web")
    response = await client.post("/v1/leads", json=_lead(source="Web", source_id=source),
                                 headers=tenant.admin)
    assert response.status_code == 422, response.text
    assert _fields(response) == ["opportunity.source"]


async def test_ids_are_taken_as_the_opportunity_create_takes_them(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    source = await make_list_item(app, tenant, "sources", "Fair")
    answer = await _post(client, tenant, _lead(source_id=source))
    opportunity = await _get(client, tenant,
                             f"/v1/opportunities/{answer['opportunity']['id']}")
    assert opportunity["source_id"] == source
    before = await _counts(app, tenant)
    response = await client.post("/v1/leads", json=_lead(stage_id=world.process.id + 10**6),
                                 headers=tenant.admin)
    assert response.status_code == 404, response.text
    assert _fields(response) == ["opportunity.stage_id"]
    assert await _counts(app, tenant) == before


async def test_the_owner_is_found_by_email(client: AsyncClient, tenant: Tenant,
                                           world: World):
    seller = await make_user(client, tenant)
    answer = await _post(client, tenant, _lead(owner_email=seller["email"].upper()),
                         headers=tenant.key)
    opportunity = await _get(client, tenant,
                             f"/v1/opportunities/{answer['opportunity']['id']}")
    assert opportunity["owner_id"] == seller["id"]
    assert opportunity["sellers"] == [{"user_id": seller["id"], "share": "100.00"}]
    response = await client.post("/v1/leads", json=_lead(owner_email="nobody@x.test"),
                                 headers=tenant.key)
    assert response.status_code == 422, response.text
    assert _fields(response) == ["opportunity.owner_email"]


async def test_an_api_key_without_an_owner_is_a_422(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    before = await _counts(app, tenant)
    response = await client.post("/v1/leads", json=_lead(), headers=tenant.key)
    assert response.status_code == 422, response.text
    assert _fields(response) == ["opportunity.owner_id"]
    assert await _counts(app, tenant) == before
    answer = await _post(client, tenant, _lead(owner_id=tenant.admin_id), headers=tenant.key)
    assert answer["opportunity"]["created"]


def _task_shape(task: dict[str, Any], opportunity: dict[str, Any]) -> dict[str, Any]:
    """What a task should have alike whichever way its opportunity was made."""
    due = datetime.fromisoformat(task["due_at"])
    made = datetime.fromisoformat(opportunity["created_at"])
    return {"origin": task["origin"], "kind": task["kind"], "text": task["text"],
            "assignee_id": task["assignee_id"], "done": task["done"],
            "subject": task["subject"].replace(opportunity["name"], "<name>"),
            "due": task["due_at"] if task["origin"] == "follow_up" else (due - made).days}


async def test_the_follow_up_and_reminder_tasks_are_those_of_a_create(
        client: AsyncClient, tenant: Tenant, world: World):
    fields = {"follow_up_date": "2027-03-01", "description": "Call back"}
    answer = await _post(client, tenant, _lead(**fields))
    by_lead = await _get(client, tenant, f"/v1/opportunities/{answer['opportunity']['id']}")
    created = await create_opportunity(client, tenant, answer["customer"]["id"],
                                       contact_id=answer["contact"]["id"], **fields)
    lead_tasks = await _tasks(client, tenant, by_lead["id"])
    create_tasks = await _tasks(client, tenant, created["id"])
    assert [t["origin"] for t in lead_tasks] == ["follow_up", "opportunity_created"]
    assert [_task_shape(t, by_lead) for t in lead_tasks] == [
        _task_shape(t, created) for t in create_tasks]
    assert {(t["customer_id"], t["contact_id"]) for t in lead_tasks} == {
        (answer["customer"]["id"], answer["contact"]["id"])}


async def test_the_lead_emits_the_events_of_its_creates_and_a_resend_none(
        client: AsyncClient, tenant: Tenant, world: World):
    body = _lead(follow_up_date="2027-03-01")
    setup = len(await read_events(client, tenant))
    answer = await _post(client, tenant, body)
    events = (await read_events(client, tenant))[setup:]
    emitted = [(e["type"], e["aggregate_id"]) for e in events]
    assert emitted[:3] == [("customer.created", answer["customer"]["id"]),
                           ("contact.created", answer["contact"]["id"]),
                           ("opportunity.created", answer["opportunity"]["id"])]
    assert [t for t, _ in emitted[3:]] == ["activity.created", "activity.created"]
    assert {e["actor"]["id"] for e in events} == {tenant.admin_id}
    await _post(client, tenant, body, expect=200)
    assert len(await read_events(client, tenant)) == setup + len(events)


async def test_a_lead_sent_again_without_a_key_finds_what_the_first_created(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    body = _lead()
    first = await _post(client, tenant, body)
    counts = await _counts(app, tenant)
    again = await _post(client, tenant, body, expect=200)
    assert again == {part: {"id": first[part]["id"], "created": False}
                     for part in ("customer", "contact", "opportunity")}
    assert await _counts(app, tenant) == counts


async def test_a_lead_sent_again_with_its_idempotency_key_is_answered_as_the_first_time(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    body = _lead()
    headers = tenant.admin | {"Idempotency-Key": secrets.token_hex(8)}
    first = await client.post("/v1/leads", json=body, headers=headers)
    assert first.status_code == 201, first.text
    counts = await _counts(app, tenant)
    again = await client.post("/v1/leads", json=body, headers=headers)
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers.get("idempotent-replayed") == "true"
    assert await _counts(app, tenant) == counts


@pytest.mark.parametrize("keys", ["external ids", "org number only"])
async def test_concurrent_identical_leads_make_one_of_each_record(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World, keys: str):
    body = _lead()
    if keys == "org number only":
        body["customer"].pop("external_id")
        body["contact"].pop("external_id")
    answers = await asyncio.gather(*[client.post("/v1/leads", json=body,
                                                 headers=tenant.admin) for _ in range(6)])
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201], [
        a.text for a in answers]
    for part in ("customer", "contact", "opportunity"):
        assert len({a.json()[part]["id"] for a in answers}) == 1
    counts = await _counts(app, tenant)
    assert (counts["customers"], counts["contacts"], counts["opportunities"]) == (2, 1, 1)


async def test_a_lead_and_an_upsert_of_one_opportunity_at_once_make_one(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    body = _lead(contact=False)
    external_id = body["opportunity"]["external_id"]
    lead, upsert = await asyncio.gather(
        client.post("/v1/leads", json=body, headers=tenant.admin),
        client.put(f"/v1/opportunities/by-external-id/{external_id}", headers=tenant.admin,
                   json={"name": "By the ERP", "customer_id": world.customer_id}))
    assert lead.status_code in (200, 201), lead.text
    assert upsert.status_code in (200, 201), upsert.text
    assert lead.json()["opportunity"]["id"] == upsert.json()["id"]
    found = await sql(app, "SELECT count(*) FROM opportunities WHERE organization_id = :org"
                           " AND external_id = :ext", org=tenant.organization_id,
                      ext=external_id)
    assert found == 1


async def test_external_ids_of_another_organization_are_neither_matched_nor_touched(
        app: FastAPI, client: AsyncClient, tenant: Tenant, other_tenant: Tenant,
        world: World):
    await make_world(app, other_tenant)
    body = _lead()
    theirs = await _post(client, other_tenant, body)
    their_counts = await _counts(app, other_tenant)
    their_records = [await _get(client, other_tenant, path) for path in (
        f"/v1/customers/{theirs['customer']['id']}",
        f"/v1/contacts/{theirs['contact']['id']}",
        f"/v1/opportunities/{theirs['opportunity']['id']}")]
    ours = await _post(client, tenant, body)
    for part in ("customer", "contact", "opportunity"):
        assert ours[part]["created"] and ours[part]["id"] != theirs[part]["id"]
    owners = await sql(app, "SELECT count(DISTINCT organization_id) FROM customers "
                            "WHERE id = :customer AND organization_id = :org",
                       customer=ours["customer"]["id"], org=tenant.organization_id)
    assert owners == 1
    assert await _counts(app, other_tenant) == their_counts
    assert [await _get(client, other_tenant, path) for path in (
        f"/v1/customers/{theirs['customer']['id']}",
        f"/v1/contacts/{theirs['contact']['id']}",
        f"/v1/opportunities/{theirs['opportunity']['id']}")] == their_records
    opportunity = await _get(client, tenant, f"/v1/opportunities/{ours['opportunity']['id']}")
    assert (opportunity["customer_id"], opportunity["contact_id"]) == (
        ours["customer"]["id"], ours["contact"]["id"])


@pytest.mark.parametrize("scopes", [["opportunities:write", "opportunities:read"],
                                    ["customers:write", "opportunities:write"]])
async def test_a_lead_needs_the_leads_scope(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World,
        scopes: list[str]):
    made = await client.post("/v1/api-keys", json={"name": "form", "scopes": scopes},
                             headers=tenant.admin)
    assert made.status_code == 201, made.text
    before = await _counts(app, tenant)
    response = await client.post(
        "/v1/leads", json=_lead(owner_id=tenant.admin_id),
        headers={"Authorization": f"Bearer {made.json()['secret']}"})
    assert response.status_code == 403, response.text
    assert await _counts(app, tenant) == before


async def test_the_leads_scope_alone_is_enough_for_a_marketing_tool(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    made = await client.post("/v1/api-keys", json={"name": "form", "scopes": ["leads:write"]},
                             headers=tenant.admin)
    key = {"Authorization": f"Bearer {made.json()['secret']}"}
    response = await client.post("/v1/leads", json=_lead(owner_id=tenant.admin_id),
                                 headers=key)
    assert response.status_code == 201, response.text
    assert (await client.get("/v1/customers", headers=key)).status_code == 403


async def test_errors_of_a_part_name_the_field_within_the_lead(
        client: AsyncClient, tenant: Tenant, world: World):
    body = _lead()
    body["customer"]["owner_id"] = 10**9
    response = await client.post("/v1/leads", json=body, headers=tenant.admin)
    assert response.status_code == 404, response.text
    assert _fields(response) == ["customer.owner_id"]
    body = _lead()
    del body["customer"]["name"]
    response = await client.post("/v1/leads", json=body, headers=tenant.admin)
    assert response.status_code == 422, response.text
    assert _fields(response) == ["customer.name"]
    body = _lead(contact_id=1)
    response = await client.post("/v1/leads", json=body, headers=tenant.admin)
    assert response.status_code == 422, response.text
    assert _fields(response) == ["opportunity.contact_id"]
