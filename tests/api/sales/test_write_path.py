"""The write path's shortcuts answer what FastAPI's own machinery would: a lean route with
a JSON body and an `If-Match` header (no per-request dependency solver) reads the body
and the header as FastAPI's handler does, and gives the same answers, every 422 problem
included, in the same order of checks (the body before the caller, a 422 before a 412)."""

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from salescore.api.deps import app_state
from tests.api.sales.test_read_path import comparable, lean_route
from tests.factories import Tenant
from tests.opportunity_factories import World, create_opportunity, make_world

JSON = {"Content-Type": "application/json"}
Request = tuple[str, str, bytes, dict[str, str]]


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await make_world(app, tenant)


async def answers_of_both(app: FastAPI, client: AsyncClient,
                          requests: list[Request]) -> tuple[list[Any], list[Any]]:
    """Each request answered by the lean route, then by FastAPI's own handler (which a
    lean route leaves every request to while `dependency_overrides` holds something)."""
    async def answers() -> list[Any]:
        return [comparable(await client.request(method, url, content=body, headers=headers))
                for method, url, body, headers in requests]

    lean = await answers()
    app.dependency_overrides[app_state] = app_state
    try:
        fastapi = await answers()
    finally:
        app.dependency_overrides.clear()
    return lean, fastapi


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/v1/opportunities"), ("PATCH", "/v1/opportunities/{opportunity_id}"),
    ("POST", "/v1/opportunities/{opportunity_id}/move"),
    ("POST", "/v1/opportunities/{opportunity_id}/win"),
    ("POST", "/v1/opportunities/{opportunity_id}/lose")])
def test_the_busiest_writes_are_lean_first_routes(app: FastAPI, method: str, path: str):
    assert lean_route(app, method, path).plan is not None


async def test_a_lean_write_refuses_what_fastapi_would_and_changes_nothing(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    made = await create_opportunity(client, tenant, world.customer_id)
    one = f"/v1/opportunities/{made['id']}"
    caller = {**tenant.key, **JSON}
    requests: list[Request] = [
        ("PATCH", one, b'{"amount": ', caller),  # invalid JSON
        ("PATCH", one, b'{"amount": "2"}', tenant.key),  # no Content-Type: not parsed, 415
        ("PATCH", one, b'{"amount": "2"}', {**tenant.key, "Content-Type": "text/plain"}),
        ("PATCH", one, b"", caller),  # no body where one is required
        ("PATCH", one, b"[]", caller),
        ("PATCH", one, b'{"amount": "x", "probability": 101}', caller),
        ("PATCH", one, b'{"status": "won"}', caller),
        ("PATCH", one, b'{"amount": "2"}', {**caller, "If-Match": '"9"'}),  # stale: 412
        ("PATCH", one, b'{"amount": "x"}', {**caller, "If-Match": '"9"'}),  # 422 first
        ("PATCH", one, b'{"amount": "2"}', {**caller, "If-Match": "abc"}),
        ("PATCH", one, b'{"amount": "2"}',
         {**tenant.key, "Content-Type": "application/merge-patch+json", "If-Match": '"7"'}),
        ("PATCH", f"/v1/opportunities/{made['id'] + 10**6}", b'{"amount": "2"}', caller),
        ("PATCH", "/v1/opportunities/abc", b'{"amount": "x"}', caller),
        ("POST", f"{one}/win", b"", {**tenant.key, "If-Match": '"9"'}),  # body optional
        ("POST", f"{one}/win", b"null", {**caller, "If-Match": '"9"'}),
        ("POST", f"{one}/lose", b'{"loss_note": 5}', caller),
        ("POST", f"{one}/move", b"{}", caller),
        ("POST", f"{one}/move", b'{"stage_id": "first"}',
         {**tenant.key, "Content-Type": "application/json; charset=utf-8"}),
        ("POST", "/v1/opportunities", b'{"name": ', JSON),  # the body before the caller
        ("POST", "/v1/opportunities", b'{"name": "x"}', JSON),  # no caller: 401
        ("POST", "/v1/opportunities", b'{"name": "x"}', caller),
    ]
    lean, fastapi = await answers_of_both(app, client, requests)
    assert lean == fastapi
    assert [status for status, _, _ in lean] == [
        422, 415, 415, 422, 422, 422, 422, 412, 422, 412, 412, 404, 422, 412, 412, 422,
        422, 422, 422, 401, 422]
    assert lean[0][1]["errors"][0]["field"] == "body"
    assert {e["field"] for e in lean[5][1]["errors"]} == {"amount", "probability"}
    after = await client.get(one, headers=tenant.key)
    assert after.json()["version"] == 1 and after.json()["amount"] == made["amount"]


async def test_a_lean_write_answers_what_fastapi_would(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    lean_deal = await create_opportunity(client, tenant, world.customer_id)
    fastapi_deal = await create_opportunity(client, tenant, world.customer_id)

    async def patch(deal: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        response = await client.patch(
            f"/v1/opportunities/{deal['id']}", json={"amount": "2500.50", "name": "Renewal"},
            headers={**tenant.key, "If-Match": '"1"'})
        return response.status_code, response.json(), response.headers["ETag"]

    lean = await patch(lean_deal)
    app.dependency_overrides[app_state] = app_state
    try:
        fastapi = await patch(fastapi_deal)
    finally:
        app.dependency_overrides.clear()
    varying = {"id", "created_at", "updated_at"}
    assert lean[0] == fastapi[0] == 200 and lean[2] == fastapi[2] == '"2"'
    assert ({k: v for k, v in lean[1].items() if k not in varying}
            == {k: v for k, v in fastapi[1].items() if k not in varying})
    assert (lean[1]["amount"], lean[1]["name"]) == ("2500.50", "Renewal")
