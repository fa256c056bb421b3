"""The list of sales processes: views, text patterns, numeric filters on id, stage count
and use, default-for targets, who made and saved them, dates, sorting and pages."""

from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import Tenant, make_unit, make_user
from tests.process_factories import insert_opportunity, make_process

PATH = "/v1/sales-processes"


async def _ids(client: AsyncClient, tenant: Tenant, headers: dict[str, str] | None = None,
               **params: Any) -> list[int]:
    response = await client.get(PATH, params={"limit": 500, **params},
                                headers=headers or tenant.admin)
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["data"]]


def _stages(count: int) -> list[dict[str, Any]]:
    return [{"name": f"Step {n}", "probability": str(10 * n)} for n in range(1, count)] + [
        {"name": "Won", "probability": "100", "kind": "won"}]


async def test_the_views_pick_active_inactive_mine_and_not_mine(client: AsyncClient,
                                                                tenant: Tenant):
    manager = await make_user(client, tenant, role="manager")
    as_manager = tenant.token_for(manager["id"])
    a = await make_process(client, tenant)
    b = await make_process(client, tenant, active=False)
    c, d, e = [(await client.post(PATH, headers=as_manager, json={
        "name": name, "active": active, "stages": _stages(2)})).json()
        for name, active in [("C", True), ("D", True), ("E", False)]]
    await client.patch(f"{PATH}/{d['id']}", json={"note": "saved by the admin"},
                       headers=tenant.admin)
    assert await _ids(client, tenant) == [a["id"], c["id"], d["id"]]
    expected = {"active": [a, c, d], "inactive": [b, e], "all": [a, b, c, d, e],
                "mine": [a, b, d], "not_mine": [c, e]}
    for view, processes in expected.items():
        assert await _ids(client, tenant, view=view) == [p["id"] for p in processes], view
    assert await _ids(client, tenant, as_manager, view="mine") == [c["id"], d["id"], e["id"]]
    assert await _ids(client, tenant, as_manager, view="not_mine") == [a["id"], b["id"]]
    assert await _ids(client, tenant, tenant.key, view="mine") == []
    assert len(await _ids(client, tenant, tenant.key, view="not_mine")) == 5


@pytest.mark.parametrize(("params", "expected"), [
    ({"name": "nordic%"}, [0]), ({"name": "%SALES"}, [0]), ({"name": "deal"}, [2]),
    ({"name": "%deal"}, []), ({"note": "%partners"}, [1]), ({"note": "RENEW%"}, [2]),
    ({"q": "nordic"}, [0, 1]), ({"q": "%partners"}, [1]), ({"q": "renewals"}, [2]),
    ({"q": "nordic", "name": "enter%"}, [1])])
async def test_text_filters_follow_the_search_patterns(client: AsyncClient, tenant: Tenant,
                                                       params: dict[str, str],
                                                       expected: list[int]):
    made = [await make_process(client, tenant, name=name, note=note) for name, note in [
        ("Nordic Sales", None), ("Enterprise", "For NORDIC partners"),
        ("Small deals", "renewals")]]
    assert await _ids(client, tenant, **params) == [made[n]["id"] for n in expected]


NUMERIC = [
    ("stage_count", "", 3, [1]), ("stage_count", "[gte]", 3, [1, 2]),
    ("stage_count", "[lte]", 3, [0, 1]), ("stage_count", "[ne]", 3, [0, 2]),
    ("in_use", "", 0, [0]), ("in_use", "[gte]", 1, [1, 2]), ("in_use", "[lte]", 1, [0, 2]),
    ("in_use", "[ne]", 2, [0, 2]),
]


@pytest.mark.parametrize(("field", "op", "value", "expected"), NUMERIC)
async def test_stage_count_and_in_use_filter_with_eq_gte_lte_ne(
        client: AsyncClient, tenant: Tenant, field: str, op: str, value: int,
        expected: list[int]):
    made = [await make_process(client, tenant, stages=_stages(n)) for n in (2, 3, 5)]
    for process, uses in zip(made, (0, 2, 1), strict=True):
        for _ in range(uses):
            await insert_opportunity(tenant, process["stages"][0])
    assert await _ids(client, tenant, **{f"{field}{op}": value}) == [
        made[n]["id"] for n in expected]


@pytest.mark.parametrize(("op", "expected"), [
    ("", [1]), ("[gte]", [1, 2]), ("[lte]", [0, 1]), ("[ne]", [0, 2])])
async def test_id_filters_with_eq_gte_lte_ne(client: AsyncClient, tenant: Tenant, op: str,
                                             expected: list[int]):
    made = [await make_process(client, tenant) for _ in range(3)]
    assert await _ids(client, tenant, **{f"id{op}": made[1]["id"]}) == [
        made[n]["id"] for n in expected]


async def test_default_for_filters_find_the_processes_marked_for_a_target(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant):
    users = [await make_user(client, tenant) for _ in range(2)]
    department = await make_unit(client, tenant, "departments")
    region = await make_unit(client, tenant, "sales-regions")
    made = [await make_process(client, tenant, default_for=targets) for targets in [
        {"user_ids": [users[0]["id"]]},
        {"user_ids": [users[0]["id"], users[1]["id"]], "department_ids": [department["id"]]},
        {"sales_region_ids": [region["id"]], "all": True}, {}]]
    await make_process(client, other_tenant, default_for={"all": True})
    ids = [p["id"] for p in made]
    assert await _ids(client, tenant, default_user_id=users[0]["id"]) == ids[:2]
    assert await _ids(client, tenant, default_user_id=users[1]["id"]) == [ids[1]]
    assert await _ids(client, tenant, default_department_id=department["id"]) == [ids[1]]
    assert await _ids(client, tenant, default_sales_region_id=region["id"]) == [ids[2]]
    assert await _ids(client, tenant, default_user_id=tenant.admin_id) == []


async def test_created_by_and_updated_by_filter_by_user(client: AsyncClient, tenant: Tenant):
    manager = await make_user(client, tenant, role="manager")
    mine = await make_process(client, tenant)
    theirs = (await client.post(PATH, headers=tenant.token_for(manager["id"]), json={
        "name": "Theirs", "stages": _stages(2)})).json()
    await client.patch(f"{PATH}/{mine['id']}", json={"name": "Touched"},
                       headers=tenant.token_for(manager["id"]))
    assert await _ids(client, tenant, created_by=tenant.admin_id) == [mine["id"]]
    assert await _ids(client, tenant, created_by=manager["id"]) == [theirs["id"]]
    assert await _ids(client, tenant, updated_by=manager["id"]) == [mine["id"], theirs["id"]]
    assert await _ids(client, tenant, updated_by=tenant.admin_id) == []


async def test_created_and_updated_date_ranges(client: AsyncClient, tenant: Tenant):
    made = [await make_process(client, tenant) for _ in range(3)]
    touched = (await client.patch(f"{PATH}/{made[0]['id']}", json={"name": "Later"},
                                  headers=tenant.admin)).json()
    ids = [p["id"] for p in made]
    assert await _ids(client, tenant, **{"created_at[gte]": made[1]["created_at"]}) == ids[1:]
    assert await _ids(client, tenant, **{"created_at[lte]": made[1]["created_at"]}) == ids[:2]
    assert await _ids(client, tenant, **{"updated_at[gte]": touched["updated_at"]}) == ids[:1]
    assert await _ids(client, tenant, **{"updated_at[lte]": made[2]["updated_at"]}) == ids[1:]


async def test_the_list_sorts_by_name_stage_count_use_and_dates(client: AsyncClient,
                                                                tenant: Tenant):
    b = await make_process(client, tenant, name="b", stages=_stages(4))
    a = await make_process(client, tenant, name="a", stages=_stages(2))
    c = await make_process(client, tenant, name="c", stages=_stages(3))
    for process, uses in ((b, 1), (a, 3), (c, 2)):
        for _ in range(uses):
            await insert_opportunity(tenant, process["stages"][0])
    await client.patch(f"{PATH}/{b['id']}", json={"note": "newest"}, headers=tenant.admin)
    orders = {"name": [a, b, c], "-name": [c, b, a], "stage_count": [a, c, b],
              "-stage_count": [b, c, a], "in_use": [b, c, a], "-in_use": [a, c, b],
              "created_at": [b, a, c], "-updated_at": [b, c, a], "-id": [c, a, b]}
    for sort, expected in orders.items():
        assert await _ids(client, tenant, sort=sort) == [p["id"] for p in expected], sort


async def test_pages_sorted_by_a_computed_column_walk_every_process_once(client: AsyncClient,
                                                                         tenant: Tenant):
    made = [await make_process(client, tenant, stages=_stages(2 + n % 3)) for n in range(7)]
    seen: list[int] = []
    params: dict[str, Any] = {"limit": 2, "sort": "-stage_count"}
    while True:
        response = await client.get(PATH, params=params, headers=tenant.admin)
        page = response.json()
        seen += [p["id"] for p in page["data"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert sorted(seen) == sorted(p["id"] for p in made)
    counts = {p["id"]: p["stage_count"] for p in made}
    assert [counts[i] for i in seen] == sorted(counts.values(), reverse=True)


@pytest.mark.parametrize(("params", "field"), [
    ({"view": "deleted"}, "view"), ({"stage_count[gte]": "many"}, "stage_count[gte]"),
    ({"sort": "note"}, "sort"), ({"active": "true"}, "active"),
    ({"view[ne]": "all"}, "view[ne]"), ({"q[ne]": "x"}, "q[ne]")])
async def test_what_the_list_does_not_understand_is_refused(client: AsyncClient,
                                                            tenant: Tenant,
                                                            params: dict[str, str], field: str):
    response = await client.get(PATH, params=params, headers=tenant.admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_the_list_shows_only_the_organizations_processes(client: AsyncClient,
                                                               tenant: Tenant,
                                                               other_tenant: Tenant):
    mine = await make_process(client, tenant)
    await make_process(client, other_tenant)
    assert await _ids(client, tenant, view="all") == [mine["id"]]
