"""Product lines on an opportunity through the API (DOMAIN.md §6; the arithmetic itself is
unit-tested in tests/domain/sales/test_lines.py): defaults from the product, bad input,
the opportunity's version and event per line write, order, tenants, and `expand=lines`."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from asyncpg.connection import LoggedQuery
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import event

from tests.factories import Tenant, make_user, read_events
from tests.opportunity_factories import World, create_opportunity, make_world, sql
from tests.product_factories import create_product


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await make_world(app, tenant)


@pytest.fixture
async def deal(client: AsyncClient, tenant: Tenant, world: World) -> dict[str, Any]:
    return await create_opportunity(client, tenant, world.customer_id)


@pytest.fixture
async def widget(client: AsyncClient, tenant: Tenant) -> dict[str, Any]:
    return await create_product(client, tenant.admin, name="Widget", unit_price="100.00",
                                unit_cost="60.00", description="A fine widget")


def lines_of(opportunity: dict[str, Any]) -> str:
    return f"/v1/opportunities/{opportunity['id']}/lines"


async def add(client: AsyncClient, tenant: Tenant, opportunity: dict[str, Any],
              **fields: Any) -> dict[str, Any]:
    response = await client.post(lines_of(opportunity), json=fields, headers=tenant.admin)
    assert response.status_code == 201, response.text
    line: dict[str, Any] = response.json()
    return line


async def read(client: AsyncClient, tenant: Tenant, opportunity: dict[str, Any]
               ) -> dict[str, Any]:
    response = await client.get(f"/v1/opportunities/{opportunity['id']}", headers=tenant.admin)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def events_of(client: AsyncClient, tenant: Tenant,
                    opportunity: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in await read_events(client, tenant)
            if e["aggregate_type"] == "opportunity" and e["aggregate_id"] == opportunity["id"]]


async def test_a_free_text_line_is_added_last_and_bumps_the_opportunitys_version(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any]):
    first = await add(client, tenant, deal, name="Consulting", unit_price="1200",
                      quantity="2.5", discount_percent="10")
    response = await client.post(lines_of(deal), headers=tenant.admin,
                                 json={"name": "Travel", "unit_price": "300.00"})
    assert response.status_code == 201, response.text
    second = response.json()
    assert response.headers["Location"] == f"{lines_of(deal)}/{second['id']}"
    assert response.headers["ETag"] == f'"{deal["version"] + 2}"'
    assert {k: first[k] for k in ("product_id", "name", "description", "quantity",
                                  "unit_price", "discount_percent", "unit_cost", "position",
                                  "line_total", "line_margin")} == {
        "product_id": None, "name": "Consulting", "description": None, "quantity": "2.500",
        "unit_price": "1200.00", "discount_percent": "10.00", "unit_cost": None,
        "position": 1, "line_total": "2700.00", "line_margin": None}
    assert (second["position"], second["quantity"], second["discount_percent"]) == (
        2, "1.000", "0.00")
    now = await read(client, tenant, deal)
    assert (now["version"], now["lines_total"], now["amount"]) == (
        deal["version"] + 2, "3000.00", "1000.00")
    assert now["updated_at"] > deal["updated_at"]


async def test_a_product_line_takes_the_products_terms_and_keeps_its_cost_snapshot(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any], widget: dict[str, Any]):
    line = await add(client, tenant, deal, product_id=widget["id"], quantity="3")
    assert {k: line[k] for k in ("product_id", "name", "description", "unit_price",
                                 "unit_cost", "line_total", "line_margin")} == {
        "product_id": widget["id"], "name": "Widget", "description": "A fine widget",
        "unit_price": "100.00", "unit_cost": "60.00", "line_total": "300.00",
        "line_margin": "120.00"}
    changed = await client.patch(f"/v1/products/{widget['id']}", headers=tenant.admin,
                                 json={"unit_cost": "90.00", "unit_price": "150.00"})
    assert changed.status_code == 200, changed.text
    path = f"{lines_of(deal)}/{line['id']}"
    kept = (await client.get(path, headers=tenant.admin)).json()
    assert (kept["unit_cost"], kept["unit_price"]) == ("60.00", "100.00")
    edited = await client.patch(path, headers=tenant.admin, json={"quantity": "4"})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["unit_cost"], edited.json()["line_margin"]) == ("60.00", "160.00")


async def _unchanged(client: AsyncClient, tenant: Tenant, deal: dict[str, Any],
                     response: Response, field: str, status: int = 422) -> None:
    """The write was refused naming `field`, and left the opportunity as it was."""
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["field"] == field
    now = await read(client, tenant, deal)
    assert (now["version"], now["lines_total"]) == (deal["version"], deal["lines_total"])
    listed = (await client.get(lines_of(deal), headers=tenant.admin)).json()["data"]
    assert listed == []


@pytest.mark.parametrize(("body", "field"), [
    ({"quantity": "0"}, "quantity"), ({"quantity": "-1"}, "quantity"),
    ({"quantity": "1.0005"}, "quantity"), ({"quantity": "lots"}, "quantity"),
    ({"discount_percent": "100.01"}, "discount_percent"),
    ({"discount_percent": "-0.01"}, "discount_percent"),
    ({"discount_percent": "9.999"}, "discount_percent"),
    ({"unit_price": "-1"}, "unit_price"), ({"unit_price": "1.005"}, "unit_price"),
    ({"unit_cost": "-1"}, "unit_cost"), ({"position": 1}, "position"),
])
async def test_bad_figures_are_refused_naming_the_field_and_change_nothing(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any], body: dict[str, Any],
        field: str):
    response = await client.post(lines_of(deal), headers=tenant.admin,
                                 json={"name": "Consulting", "unit_price": "100", **body})
    await _unchanged(client, tenant, deal, response, field)


@pytest.mark.parametrize(("body", "field"), [({"unit_price": "100"}, "name"),
                                             ({"name": "Consulting"}, "unit_price")])
async def test_a_free_text_line_needs_a_name_and_a_unit_price(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any], body: dict[str, Any],
        field: str):
    response = await client.post(lines_of(deal), headers=tenant.admin, json=body)
    await _unchanged(client, tenant, deal, response, field)


async def test_a_product_in_another_currency_needs_the_unit_price(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any]):
    euro = await create_product(client, tenant.admin, currency="EUR", unit_cost="5.00")
    response = await client.post(lines_of(deal), headers=tenant.admin,
                                 json={"product_id": euro["id"]})
    await _unchanged(client, tenant, deal, response, "unit_price")
    priced = await add(client, tenant, deal, product_id=euro["id"], unit_price="1150")
    assert (priced["unit_price"], priced["unit_cost"]) == ("1150.00", None)


async def test_an_inactive_product_takes_no_new_line(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any], widget: dict[str, Any]):
    off = await client.patch(f"/v1/products/{widget['id']}", headers=tenant.admin,
                             json={"active": False})
    assert off.status_code == 200, off.text
    response = await client.post(lines_of(deal), headers=tenant.admin,
                                 json={"product_id": widget["id"]})
    await _unchanged(client, tenant, deal, response, "product_id")


async def test_another_organizations_or_an_unknown_product_is_not_found(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant, deal: dict[str, Any]):
    theirs = await create_product(client, other_tenant.admin)
    for product_id in (theirs["id"], theirs["id"] + 10_000):
        response = await client.post(lines_of(deal), headers=tenant.admin,
                                     json={"product_id": product_id})
        await _unchanged(client, tenant, deal, response, "product_id", 404)


async def test_another_organizations_opportunity_and_its_lines_are_not_found(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant, deal: dict[str, Any]):
    line = await add(client, tenant, deal, name="Consulting", unit_price="100")
    path = f"{lines_of(deal)}/{line['id']}"
    for method, url, body in (
            ("GET", lines_of(deal), None), ("POST", lines_of(deal), {"name": "x",
                                                                     "unit_price": "1"}),
            ("PUT", f"{lines_of(deal)}/order", {"line_ids": [line["id"]]}),
            ("GET", path, None), ("PATCH", path, {"quantity": "2"}), ("DELETE", path, None)):
        response = await client.request(method, url, json=body, headers=other_tenant.admin)
        assert response.status_code == 404, (method, url, response.text)
    now = await read(client, tenant, deal)
    assert (now["version"], now["lines_total"]) == (deal["version"] + 1, "100.00")


async def test_a_line_of_another_opportunity_is_not_found(
        client: AsyncClient, tenant: Tenant, world: World, deal: dict[str, Any]):
    other = await create_opportunity(client, tenant, world.customer_id)
    line = await add(client, tenant, other, name="Consulting", unit_price="100")
    path = f"{lines_of(deal)}/{line['id']}"
    for method, body in (("GET", None), ("PATCH", {"quantity": "2"}), ("DELETE", None)):
        response = await client.request(method, path, json=body, headers=tenant.admin)
        assert response.status_code == 404, (method, response.text)
    assert (await read(client, tenant, other))["lines_total"] == "100.00"


async def test_every_line_write_takes_the_opportunitys_if_match(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any]):
    line = await add(client, tenant, deal, name="Consulting", unit_price="100")
    path = f"{lines_of(deal)}/{line['id']}"
    stale = {**tenant.admin, "If-Match": f'"{deal["version"]}"'}
    for method, url, body in (
            ("POST", lines_of(deal), {"name": "x", "unit_price": "1"}),
            ("PATCH", path, {"quantity": "2"}), ("DELETE", path, None),
            ("PUT", f"{lines_of(deal)}/order", {"line_ids": [line["id"]]})):
        response = await client.request(method, url, json=body, headers=stale)
        assert response.status_code == 412, (method, url, response.text)
    bad = await client.post(lines_of(deal), headers=stale,
                            json={"name": "x", "unit_price": "1", "quantity": "0"})
    assert bad.status_code == 422, bad.text  # bad input is its 422 before If-Match counts
    now = await read(client, tenant, deal)
    assert (now["version"], now["lines_total"]) == (deal["version"] + 1, "100.00")
    current = {**tenant.admin, "If-Match": f'"{now["version"]}"'}
    changed = await client.patch(path, headers=current, json={"quantity": "2"})
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == f'"{now["version"] + 1}"'


async def test_each_line_write_leaves_one_updated_event_with_the_figures(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any]):
    before = len(await events_of(client, tenant, deal))
    line = await add(client, tenant, deal, name="Consulting", unit_price="100")
    other = await add(client, tenant, deal, name="Travel", unit_price="50")
    path = f"{lines_of(deal)}/{line['id']}"
    assert (await client.patch(path, headers=tenant.admin,
                               json={"quantity": "3"})).status_code == 200
    assert (await client.put(f"{lines_of(deal)}/order", headers=tenant.admin,
                             json={"line_ids": [other["id"], line["id"]]})).status_code == 200
    assert (await client.delete(path, headers=tenant.admin)).status_code == 204
    found = (await events_of(client, tenant, deal))[before:]
    assert [e["type"] for e in found] == ["opportunity.updated"] * 5
    added, _, changed, ordered, removed = (e["data"]["changes"] for e in found)
    assert added["lines_total"] == {"from": "0.00", "to": "100.00"}
    assert added["line"]["from"] is None and added["line"]["to"]["name"] == "Consulting"
    assert changed["lines_total"] == {"from": "150.00", "to": "350.00"}
    assert changed["line"] == {
        "from": {"id": line["id"], "quantity": "1.000", "line_total": "100.00"},
        "to": {"id": line["id"], "quantity": "3.000", "line_total": "300.00"}}
    assert ordered == {"line_order": {"from": [line["id"], other["id"]],
                                      "to": [other["id"], line["id"]]}}
    assert removed["lines_total"] == {"from": "350.00", "to": "50.00"}
    assert removed["line"]["to"] is None and removed["line"]["from"]["id"] == line["id"]
    assert "amount" not in changed  # a manual amount stays as typed
    assert (await read(client, tenant, deal))["version"] == deal["version"] + 5


async def test_a_line_write_that_changes_nothing_keeps_the_version(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any]):
    line = await add(client, tenant, deal, name="Consulting", unit_price="100",
                     quantity="2")
    count = len(await events_of(client, tenant, deal))
    same = await client.patch(f"{lines_of(deal)}/{line['id']}", headers=tenant.admin,
                              json={"quantity": "2.000", "unit_price": "100"})
    assert same.status_code == 200 and same.json() == line
    order = await client.put(f"{lines_of(deal)}/order", headers=tenant.admin,
                             json={"line_ids": [line["id"]]})
    assert order.status_code == 200
    assert same.headers["ETag"] == order.headers["ETag"] == f'"{deal["version"] + 1}"'
    assert len(await events_of(client, tenant, deal)) == count


async def test_lines_are_reordered_and_a_removal_closes_the_gap(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any]):
    ids = [(await add(client, tenant, deal, name=f"L{n}", unit_price="1"))["id"]
           for n in range(3)]
    for wrong in ([ids[0], ids[1]], [*ids, ids[0]], [ids[0], ids[1], ids[2] + 1000], []):
        refused = await client.put(f"{lines_of(deal)}/order", headers=tenant.admin,
                                   json={"line_ids": wrong})
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "line_ids"
    assert (await read(client, tenant, deal))["version"] == deal["version"] + 3
    ordered = await client.put(f"{lines_of(deal)}/order", headers=tenant.admin,
                               json={"line_ids": [ids[2], ids[0], ids[1]]})
    assert [(x["id"], x["position"]) for x in ordered.json()["data"]] == [
        (ids[2], 1), (ids[0], 2), (ids[1], 3)]
    removed = await client.delete(f"{lines_of(deal)}/{ids[0]}", headers=tenant.admin)
    assert removed.status_code == 204
    assert removed.headers["ETag"] == f'"{deal["version"] + 5}"'
    listed = await client.get(lines_of(deal), headers=tenant.admin)
    assert listed.headers["ETag"] == removed.headers["ETag"]
    assert [(x["id"], x["position"]) for x in listed.json()["data"]] == [(ids[2], 1),
                                                                        (ids[1], 2)]


async def test_a_seller_reads_every_line_but_changes_only_their_opportunities(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any]):
    line = await add(client, tenant, deal, name="Consulting", unit_price="100")
    seller = tenant.token_for((await make_user(client, tenant))["id"])
    assert (await client.get(lines_of(deal), headers=seller)).status_code == 200
    for method, url, body in (
            ("POST", lines_of(deal), {"name": "x", "unit_price": "1"}),
            ("PATCH", f"{lines_of(deal)}/{line['id']}", {"quantity": "2"}),
            ("DELETE", f"{lines_of(deal)}/{line['id']}", None)):
        response = await client.request(method, url, json=body, headers=seller)
        assert response.status_code == 403, (method, response.text)


@contextmanager
def statements(app: FastAPI) -> Iterator[list[str]]:
    """Every statement sent to the database meanwhile: through SQLAlchemy, and on the
    driver itself (repositories/prepared.py), which SQLAlchemy does not see."""
    engine = app.state.salescore.engine.sync_engine
    sent: list[str] = []

    def on_sqlalchemy(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    def on_driver(query: LoggedQuery) -> None:
        sent.append(query.query)

    def on_checkout(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(on_driver)

    def on_checkin(dbapi_connection: Any, *_: Any) -> None:
        if dbapi_connection is not None:
            dbapi_connection.driver_connection.remove_query_logger(on_driver)

    hooks = ((engine, "before_cursor_execute", on_sqlalchemy),
             (engine.pool, "checkout", on_checkout), (engine.pool, "checkin", on_checkin))
    for target, name, hook in hooks:
        event.listen(target, name, hook)
    try:
        yield sent
    finally:
        for target, name, hook in hooks:
            event.remove(target, name, hook)


async def _counted(app: FastAPI, client: AsyncClient, tenant: Tenant, url: str,
                   ) -> tuple[dict[str, Any], list[str]]:
    with statements(app) as sent:
        response = await client.get(url, headers=tenant.admin)
        await asyncio.sleep(0.01)  # the driver's query loggers are called soon after
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body, list(sent)


def _of_lines(sent: list[str]) -> int:
    return sum("opportunity_lines" in statement for statement in sent)


@pytest.mark.parametrize("listed", [False, True], ids=["read", "list"])
async def test_expand_lines_embeds_them_with_one_query_and_without_it_none(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World, listed: bool):
    deals = [await create_opportunity(client, tenant, world.customer_id) for _ in range(3)]
    for n, opportunity in enumerate(deals[:2]):
        for m in range(n + 1):
            await add(client, tenant, opportunity, name=f"L{m}", unit_price="10")
    url = "/v1/opportunities" if listed else f"/v1/opportunities/{deals[1]['id']}"
    plain, without = await _counted(app, client, tenant, url)
    expanded, with_lines = await _counted(app, client, tenant, url + "?expand=lines")
    assert (_of_lines(without), _of_lines(with_lines)) == (0, 1)
    assert len(with_lines) == len(without) + 1
    rows = expanded["data"] if listed else [expanded]
    assert all("lines" not in row for row in (plain["data"] if listed else [plain]))
    by_id = {row["id"]: [line["name"] for line in row["lines"]] for row in rows}
    if listed:
        assert by_id == {deals[0]["id"]: ["L0"], deals[1]["id"]: ["L0", "L1"],
                         deals[2]["id"]: []}
        assert [dict(row, lines=None) for row in rows] == [
            dict(row, lines=None) for row in plain["data"]]
    else:
        assert by_id == {deals[1]["id"]: ["L0", "L1"]}
        assert {k: v for k, v in expanded.items() if k != "lines"} == plain


async def test_expand_sellers_changes_nothing_and_an_unknown_part_is_refused(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any]):
    url = f"/v1/opportunities/{deal['id']}"
    assert (await client.get(url, params={"expand": "sellers"},
                             headers=tenant.admin)).json() == await read(client, tenant, deal)
    both = (await client.get(url, params={"expand": "sellers,lines"},
                             headers=tenant.admin)).json()
    assert both["lines"] == [] and both["sellers"] == deal["sellers"]
    for path in (url, "/v1/opportunities"):
        refused = await client.get(path, params={"expand": "lines,quotes"},
                                   headers=tenant.admin)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "expand"


async def test_lines_go_with_their_opportunity(app: FastAPI, client: AsyncClient,
                                               tenant: Tenant, deal: dict[str, Any]):
    await add(client, tenant, deal, name="Consulting", unit_price="100")
    assert (await client.delete(f"/v1/opportunities/{deal['id']}",
                                headers=tenant.admin)).status_code == 204
    assert await sql(app, "SELECT count(*) FROM opportunity_lines WHERE organization_id = :org",
                     org=tenant.organization_id) == 0
