"""Sales processes: create with stages, read, change, delete; the rules a process keeps,
default-for targets, versions, tenants, scopes and the change feed (DOMAIN.md §4)."""

from typing import Any

import pytest
from httpx import AsyncClient

from salescore.domain.sales.processes import default_process_id
from salescore.repositories.unit_of_work import UnitOfWork
from tests.factories import Tenant, make_unit, make_user, read_events
from tests.process_factories import (
    DEFAULT_STAGES,
    insert_opportunity,
    make_process,
    problem_field,
    read_process,
    stage_named,
)

PATH = "/v1/sales-processes"
TYPES = "sales_process.created,sales_process.updated,sales_process.deleted"


async def _all_ids(client: AsyncClient, tenant: Tenant) -> list[int]:
    response = await client.get(PATH, params={"view": "all", "limit": 500}, headers=tenant.key)
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["data"]]


async def test_a_process_is_created_with_its_stages_in_order(client: AsyncClient,
                                                             tenant: Tenant):
    response = await client.post(PATH, headers=tenant.admin, json={
        "name": "New business", "note": "For new customers", "stages": DEFAULT_STAGES})
    assert response.status_code == 201, response.text
    process = response.json()
    assert response.headers["location"] == f"{PATH}/{process['id']}"
    assert response.headers["etag"] == '"1"'
    assert (process["name"], process["note"], process["active"]) == (
        "New business", "For new customers", True)
    assert [(s["name"], s["position"], s["probability"], s["kind"]) for s in
            process["stages"]] == [
        ("First contact", 1, "10.00", "open"), ("Quote sent", 2, "50.00", "open"),
        ("Verbal yes", 3, "75.00", "open"), ("Won", 4, "100.00", "won"),
        ("Lost", 5, "0.00", "lost")]
    assert [s["marks_quote_signed"] for s in process["stages"]] == [
        False, False, True, False, False]
    assert stage_named(process, "Quote sent")["color"] == "#1565C0"
    assert (process["stage_count"], process["in_use"], process["version"]) == (5, 0, 1)
    assert process["created_by"] == process["updated_by"] == tenant.admin_id
    assert process["default_for"] == {"all": False, "user_ids": [], "department_ids": [],
                                      "sales_region_ids": []}
    read = await client.get(f"{PATH}/{process['id']}", headers=tenant.admin)
    assert read.headers["etag"] == '"1"'
    assert read.json() == process


async def test_a_probability_sent_as_a_json_number_is_refused_naming_it(client: AsyncClient,
                                                                        tenant: Tenant):
    response = await client.post(PATH, headers=tenant.admin, json={"name": "Numbers", "stages": [
        {"name": "Talk", "probability": 25.5},
        {"name": "Deal", "probability": "100", "kind": "won"}]})
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{
        "field": "stages.0.probability",
        "message": 'send the probability as a decimal string, such as "25.00", not as a '
                   "JSON number"}]


async def test_an_api_key_creates_a_process_without_a_creating_user(client: AsyncClient,
                                                                   tenant: Tenant):
    response = await client.post(PATH, headers=tenant.key, json={
        "name": "By integration", "stages": DEFAULT_STAGES})
    assert response.status_code == 201, response.text
    assert response.json()["created_by"] is None


async def test_default_for_names_users_departments_and_regions(client: AsyncClient,
                                                              tenant: Tenant):
    users = [await make_user(client, tenant) for _ in range(2)]
    department = await make_unit(client, tenant, "departments")
    region = await make_unit(client, tenant, "sales-regions")
    process = await make_process(client, tenant, default_for={
        "all": True, "user_ids": [users[1]["id"], users[0]["id"], users[1]["id"]],
        "department_ids": [department["id"]], "sales_region_ids": [region["id"]]})
    assert process["default_for"] == {
        "all": True, "user_ids": sorted(u["id"] for u in users),
        "department_ids": [department["id"]], "sales_region_ids": [region["id"]]}
    read = await read_process(client, tenant, process["id"])
    assert read["default_for"] == process["default_for"]


BAD_CREATES = [
    ({"stages": []}, "stages"),
    ({"stages": [{"name": "Won", "probability": "100", "kind": "won"}]}, "stages"),
    ({"stages": [{"name": "A", "probability": "10", "marks_quote_signed": True},
                 {"name": "B", "probability": "20", "marks_quote_signed": True}]},
     "stages.1.marks_quote_signed"),
    ({"stages": [{"name": "A", "probability": "100.01"}]}, "stages.0.probability"),
    ({"stages": [{"name": "A", "probability": "-1"}]}, "stages.0.probability"),
    ({"stages": [{"name": "A", "probability": "12.345"}]}, "stages.0.probability"),
    ({"stages": [{"name": "A", "probability": "many"}]}, "stages.0.probability"),
    ({"stages": [{"name": "  ", "probability": "10"}]}, "stages.0.name"),
    ({"stages": [{"name": "A", "probability": "10", "kind": "maybe"}]}, "stages.0.kind"),
    ({"stages": [{"name": "A", "probability": "10", "color": "green"}]}, "stages.0.color"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"owner": 1}, "owner"),
]


@pytest.mark.parametrize(("change", "field"), BAD_CREATES)
async def test_a_bad_process_is_refused_naming_the_field_and_nothing_is_written(
        client: AsyncClient, tenant: Tenant, change: dict[str, Any], field: str):
    body = {"name": "Bad", "stages": DEFAULT_STAGES, **change}
    response = await client.post(PATH, json=body, headers=tenant.admin)
    assert response.status_code == 422, response.text
    assert problem_field(response) == field
    assert await _all_ids(client, tenant) == []
    assert await read_events(client, tenant, TYPES) == []


@pytest.mark.parametrize(("path", "field"), [
    ("users", "user_ids"), ("departments", "department_ids"),
    ("sales-regions", "sales_region_ids")])
async def test_default_for_another_organizations_target_is_not_found_and_writes_nothing(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant, path: str, field: str):
    if path == "users":
        theirs = await make_user(client, other_tenant)
    else:
        theirs = await make_unit(client, other_tenant, path)
    for target in (theirs["id"], 10**12):
        response = await client.post(PATH, headers=tenant.admin, json={
            "name": "Leaky", "stages": DEFAULT_STAGES, "default_for": {field: [target]}})
        assert response.status_code == 404, response.text
        assert problem_field(response) == f"default_for.{field}"
    assert await _all_ids(client, tenant) == []
    process = await make_process(client, tenant)
    patched = await client.patch(f"{PATH}/{process['id']}", headers=tenant.admin,
                                 json={"name": "Leaky", "default_for": {field: [theirs["id"]]}})
    assert patched.status_code == 404
    assert problem_field(patched) == f"default_for.{field}"
    assert await read_process(client, tenant, process["id"]) == process


async def test_patch_changes_the_fields_given_and_records_who_saved(client: AsyncClient,
                                                                   tenant: Tenant):
    process = await make_process(client, tenant, note="old note")
    manager = await make_user(client, tenant, role="manager")
    user = await make_user(client, tenant)
    response = await client.patch(
        f"{PATH}/{process['id']}", headers=tenant.token_for(manager["id"]),
        json={"name": "Renamed", "active": False, "default_for": {"user_ids": [user["id"]]}})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert response.headers["etag"] == '"2"'
    assert (changed["name"], changed["active"], changed["note"], changed["version"]) == (
        "Renamed", False, "old note", 2)
    assert changed["default_for"]["user_ids"] == [user["id"]]
    assert (changed["created_by"], changed["updated_by"]) == (tenant.admin_id, manager["id"])
    assert changed["stages"] == process["stages"]
    assert await read_process(client, tenant, process["id"]) == changed
    cleared = await client.patch(f"{PATH}/{process['id']}", headers=tenant.admin,
                                 json={"note": None, "default_for": {"all": True}})
    assert cleared.json()["note"] is None
    assert cleared.json()["default_for"] == {"all": True, "user_ids": [],
                                             "department_ids": [], "sales_region_ids": []}


@pytest.mark.parametrize("body", [{"name": None}, {"active": None}, {"name": " "},
                                  {"stages": []}, {"default_for": {"everyone": True}}])
async def test_a_bad_patch_is_refused_and_changes_nothing(client: AsyncClient, tenant: Tenant,
                                                         body: dict[str, Any]):
    process = await make_process(client, tenant)
    response = await client.patch(f"{PATH}/{process['id']}", json=body, headers=tenant.admin)
    assert response.status_code == 422
    assert problem_field(response).split(".")[0] == next(iter(body))
    assert await read_process(client, tenant, process["id"]) == process


async def test_a_stale_if_match_is_412_and_changes_nothing(client: AsyncClient,
                                                           tenant: Tenant):
    process = await make_process(client, tenant, name="Before")
    await client.patch(f"{PATH}/{process['id']}", json={"name": "Now"}, headers=tenant.admin)
    url = f"{PATH}/{process['id']}"
    stale = tenant.admin | {"If-Match": '"1"'}
    assert (await client.patch(url, json={"name": "Lost"}, headers=stale)).status_code == 412
    assert (await client.delete(url, headers=stale)).status_code == 412
    assert (await read_process(client, tenant, process["id"]))["name"] == "Now"
    fresh = await client.patch(url, json={"name": "Later"},
                               headers=tenant.admin | {"If-Match": '"2"'})
    assert fresh.status_code == 200
    assert (await client.delete(url, headers=tenant.admin | {"If-Match": '"3"'})
            ).status_code == 204


async def test_deleting_a_process_removes_it_with_its_stages(client: AsyncClient,
                                                             tenant: Tenant):
    process = await make_process(client, tenant)
    kept = await make_process(client, tenant)
    stage = process["stages"][0]
    assert (await client.delete(f"{PATH}/{process['id']}", headers=tenant.admin)
            ).status_code == 204
    assert (await client.get(f"{PATH}/{process['id']}", headers=tenant.admin)
            ).status_code == 404
    assert (await client.get(f"{PATH}/{process['id']}/stages/{stage['id']}",
                             headers=tenant.admin)).status_code == 404
    assert await _all_ids(client, tenant) == [kept["id"]]


async def test_a_process_in_use_cannot_be_deleted(client: AsyncClient, tenant: Tenant):
    process = await make_process(client, tenant)
    await insert_opportunity(tenant, stage_named(process, "Won"))
    response = await client.delete(f"{PATH}/{process['id']}", headers=tenant.admin)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert (await read_process(client, tenant, process["id"]))["in_use"] == 1


async def test_in_use_counts_the_opportunities_of_every_stage_and_status(client: AsyncClient,
                                                                         tenant: Tenant):
    process = await make_process(client, tenant)
    other = await make_process(client, tenant)
    for name in ("First contact", "First contact", "Won", "Lost"):
        await insert_opportunity(tenant, stage_named(process, name))
    await insert_opportunity(tenant, stage_named(other, "Quote sent"))
    read = await read_process(client, tenant, process["id"])
    assert read["in_use"] == 4
    assert [s["in_use"] for s in read["stages"]] == [2, 0, 0, 1, 1]
    assert (await read_process(client, tenant, other["id"]))["in_use"] == 1


async def test_another_organizations_process_is_not_found(client: AsyncClient, tenant: Tenant,
                                                          other_tenant: Tenant):
    theirs = await make_process(client, other_tenant)
    stage = theirs["stages"][0]
    url = f"{PATH}/{theirs['id']}"
    calls = [client.get(url, headers=tenant.admin),
             client.patch(url, json={"name": "Mine"}, headers=tenant.admin),
             client.delete(url, headers=tenant.admin),
             client.get(f"{url}/stages", headers=tenant.admin),
             client.post(f"{url}/stages", json={"name": "X", "probability": "1"},
                         headers=tenant.admin),
             client.put(f"{url}/stages/order", json={"stage_ids": [stage["id"]]},
                        headers=tenant.admin),
             client.get(f"{url}/stages/{stage['id']}", headers=tenant.admin),
             client.patch(f"{url}/stages/{stage['id']}", json={"name": "Y"},
                          headers=tenant.admin),
             client.delete(f"{url}/stages/{stage['id']}", headers=tenant.admin)]
    for call in calls:
        response = await call
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert await read_process(client, other_tenant, theirs["id"]) == theirs
    assert await _all_ids(client, tenant) == []


async def test_sellers_read_processes_but_only_admins_and_managers_change_them(
        client: AsyncClient, tenant: Tenant):
    process = await make_process(client, tenant)
    stage = process["stages"][1]
    seller = tenant.token_for((await make_user(client, tenant, role="seller"))["id"])
    url = f"{PATH}/{process['id']}"
    assert (await client.get(PATH, headers=seller)).json()["data"][0]["id"] == process["id"]
    assert (await client.get(url, headers=seller)).status_code == 200
    assert (await client.get(f"{url}/stages/{stage['id']}", headers=seller)).status_code == 200
    writes = [client.post(PATH, json={"name": "S", "stages": DEFAULT_STAGES}, headers=seller),
              client.patch(url, json={"name": "S"}, headers=seller),
              client.delete(url, headers=seller),
              client.post(f"{url}/stages", json={"name": "S", "probability": "1"},
                          headers=seller),
              client.put(f"{url}/stages/order", json={"stage_ids": [
                  s["id"] for s in reversed(process["stages"])]}, headers=seller),
              client.patch(f"{url}/stages/{stage['id']}", json={"name": "S"}, headers=seller),
              client.delete(f"{url}/stages/{stage['id']}", headers=seller)]
    for write in writes:
        assert (await write).status_code == 403
    assert await read_process(client, tenant, process["id"]) == process
    assert await _all_ids(client, tenant) == [process["id"]]
    manager = tenant.token_for((await make_user(client, tenant, role="manager"))["id"])
    assert (await client.patch(url, json={"name": "M"}, headers=manager)).status_code == 200


async def test_changes_to_processes_show_in_the_change_feed(client: AsyncClient,
                                                            tenant: Tenant):
    process = await make_process(client, tenant, name="Feed", stages=[
        {"name": "Talk", "probability": "20"}, {"name": "Won", "probability": "100",
                                                "kind": "won", "color": "#00FF00"}])
    await client.patch(f"{PATH}/{process['id']}", json={"name": "Fed", "active": False},
                       headers=tenant.admin)
    await client.delete(f"{PATH}/{process['id']}", headers=tenant.admin)
    events = await read_events(client, tenant, TYPES)
    default_for = {"all": False, "user_ids": [], "department_ids": [], "sales_region_ids": []}
    assert [(e["type"], e["aggregate_type"], e["aggregate_id"], e["data"]) for e in events] == [
        ("sales_process.created", "sales_process", process["id"], {
            "name": "Feed", "active": True, "note": None, "default_for": default_for,
            "stages": [
                {"name": "Talk", "position": 1, "probability": "20.00", "kind": "open",
                 "color": None, "marks_quote_signed": False},
                {"name": "Won", "position": 2, "probability": "100.00", "kind": "won",
                 "color": "#00FF00", "marks_quote_signed": False}]}),
        ("sales_process.updated", "sales_process", process["id"], {"changes": {
            "name": {"from": "Feed", "to": "Fed"}, "active": {"from": True, "to": False}}}),
        ("sales_process.deleted", "sales_process", process["id"], {
            "name": "Fed", "active": False, "note": None, "default_for": default_for})]


async def test_the_default_process_follows_user_region_department_all_then_lowest_id(
        client: AsyncClient, tenant: Tenant):
    department = await make_unit(client, tenant, "departments")
    region = await make_unit(client, tenant, "sales-regions")
    user = await make_user(client, tenant, department_id=department["id"],
                           sales_region_id=region["id"])
    lowest = await make_process(client, tenant)
    marked = {level: await make_process(client, tenant, default_for=targets) for level, targets
              in [("all", {"all": True}), ("department", {"department_ids": [department["id"]]}),
                  ("region", {"sales_region_ids": [region["id"]]}),
                  ("user", {"user_ids": [user["id"]]})]}
    await make_process(client, tenant, active=False, default_for={"user_ids": [user["id"]]})

    async def default() -> int | None:
        async with UnitOfWork(tenant.app.state.salescore.sessions) as uow:
            return default_process_id(await uow.sales_processes.default_candidates(
                tenant.organization_id, user["id"]))

    for level in ("user", "region", "department", "all"):
        assert await default() == marked[level]["id"]
        await client.patch(f"{PATH}/{marked[level]['id']}", json={"active": False},
                           headers=tenant.admin)
    assert await default() == lowest["id"]
