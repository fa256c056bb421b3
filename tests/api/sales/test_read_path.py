"""The read path's shortcuts answer what FastAPI's own machinery would: the opportunity's
JSON written from plain values is the model's, byte for byte; a lean route (no per-request
dependency solver) gives the same answers, 422 problems included, as FastAPI's handler;
the busiest routes tried first still leave wrong methods to the routers' 405."""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from salescore.api.deps import app_state
from salescore.api.lean_routes import LeanRoute
from salescore.api.listing import PageOf
from salescore.api.routing import FirstRoutes
from salescore.api.v1.sales.opportunity_schemas import (
    OPPORTUNITY_JSON,
    OPPORTUNITY_PAGE_JSON,
    OpportunityRead,
)
from salescore.domain.sales.opportunities import Opportunity, ProbabilitySource, Status
from salescore.domain.sales.shares import Seller
from tests.factories import Tenant
from tests.opportunity_factories import World, create_opportunity, make_world

MOMENT = datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=UTC)


def opportunity(**changes: Any) -> Opportunity:
    plain = Opportunity(
        id=7, organization_id=1, name="Fleet «renewal» \u2013 Tromsø", description=None,
        customer_id=3, contact_id=None, owner_id=4, sales_process_id=1, stage_id=2,
        last_open_stage_id=2, status=Status.OPEN, type_id=None, source_id=None,
        campaign_id=None, amount=Decimal("5"), currency="NOK", probability=Decimal("12.5"),
        probability_source=ProbabilitySource.STAGE, margin_amount=None,
        expected_close_date=None, follow_up_date=None, previous_follow_up_date=None,
        loss_reason_id=None, loss_note=None, closed_at=None, project_ref=None,
        external_id=None, created_at=MOMENT, created_by=None, updated_at=MOMENT,
        updated_by=None, version=1, sellers=())
    return replace(plain, **changes)


EVERY_FIELD = opportunity(
    description='"quoted"\n\\ and \x01', contact_id=9, type_id=11, source_id=12,
    campaign_id=13, amount=Decimal("1234567890123456.78"), probability=Decimal("100"),
    probability_source=ProbabilitySource.MANUAL, status=Status.WON,
    margin_amount=Decimal("-10.5"), expected_close_date=date(2027, 1, 31),
    follow_up_date=date(2027, 2, 1), previous_follow_up_date=date(2026, 12, 24),
    loss_reason_id=None, loss_note="note", closed_at=MOMENT, project_ref="P-1",
    external_id="erp-1", created_by=4, updated_by=5, version=12,
    sellers=(Seller(4, 6667), Seller(5, 3333)))


@pytest.mark.parametrize("one", [opportunity(), EVERY_FIELD,
                                 opportunity(amount=Decimal("0.005"), probability=Decimal(50))])
def test_the_json_of_an_opportunity_is_its_models_byte_for_byte(one: Opportunity):
    """Same field order, decimals as strings of two places, times in RFC 3339, nulls."""
    assert OPPORTUNITY_JSON.dump(OpportunityRead.values_of(one)) == (
        OpportunityRead.of(one).model_dump_json().encode())


def test_the_json_of_a_page_is_its_models_byte_for_byte():
    rows = [opportunity(), EVERY_FIELD]
    for cursor in (None, "next-page"):
        expected = PageOf[OpportunityRead](data=[OpportunityRead.of(o) for o in rows],
                                           next_cursor=cursor).model_dump_json().encode()
        written = OPPORTUNITY_PAGE_JSON.dump(
            {"data": [OpportunityRead.values_of(o) for o in rows], "next_cursor": cursor})
        assert written == expected


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await make_world(app, tenant)


async def test_an_opportunity_is_answered_as_json_with_its_etag(
        client: AsyncClient, tenant: Tenant, world: World):
    made = await create_opportunity(client, tenant, world.customer_id, amount="1250.5")
    response = await client.get(f"/v1/opportunities/{made['id']}", headers=tenant.key)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["ETag"] == '"1"'
    assert response.headers["x-request-id"]
    assert response.content == OpportunityRead.model_validate(made).model_dump_json().encode()
    assert (made["amount"], made["sellers"][0]["share"]) == ("1250.50", "100.00")


def lean_route(app: FastAPI, method: str, path: str) -> LeanRoute:
    found = [route for route in app.routes if isinstance(route, FirstRoutes)]
    for holder in found:
        for route in holder.routes:
            if route.path == path and method in route.methods:
                assert isinstance(route, LeanRoute)
                return route
    raise AssertionError(f"{method} {path} is not among the first routes")


def comparable(response: Any) -> tuple[int, Any, dict[str, str]]:
    body = response.json() if response.content else None
    if isinstance(body, dict):
        body.pop("request_id", None)
    headers = {k: v for k, v in response.headers.items()
               if k.lower() not in {"x-request-id", "content-length"}}
    return response.status_code, body, headers


async def answers_of_both(app: FastAPI, client: AsyncClient,
                          requests: list[tuple[str, dict[str, str]]]) -> tuple[list[Any], ...]:
    """Each request answered by the lean route, then by FastAPI's own handler (which a
    lean route leaves every request to while `dependency_overrides` holds something)."""
    lean = [comparable(await client.get(url, headers=headers)) for url, headers in requests]
    app.dependency_overrides[app_state] = app_state
    try:
        fastapi = [comparable(await client.get(url, headers=headers))
                   for url, headers in requests]
    finally:
        app.dependency_overrides.clear()
    return lean, fastapi


async def test_a_lean_get_answers_what_fastapi_would(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    assert lean_route(app, "GET", "/v1/opportunities/{opportunity_id}").plan is not None
    made = await create_opportunity(client, tenant, world.customer_id)
    requests = [(f"/v1/opportunities/{made['id']}", tenant.key),
                (f"/v1/opportunities/{made['id'] + 10**6}", tenant.key),
                ("/v1/opportunities/abc", tenant.key), ("/v1/opportunities/0", tenant.key),
                ("/v1/opportunities/1.5", tenant.key),
                (f"/v1/opportunities/{2**63}", tenant.key),
                ("/v1/opportunities/abc", {}),
                (f"/v1/opportunities/{made['id']}", {"Authorization": "Bearer sck_nope"})]
    lean, fastapi = await answers_of_both(app, client, requests)
    assert lean == fastapi
    assert [status for status, _, _ in lean] == [200, 404, 422, 422, 422, 422, 401, 401]


async def test_a_lean_list_answers_what_fastapi_would(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    assert lean_route(app, "GET", "/v1/opportunities").plan is not None
    for amount in ("100", "200", "300"):
        await create_opportunity(client, tenant, world.customer_id, amount=amount)
    first = await client.get("/v1/opportunities?limit=2&sort=-amount", headers=tenant.key)
    cursor = first.json()["next_cursor"]
    requests = [(url, tenant.key) for url in (
        "/v1/opportunities", "/v1/opportunities?limit=2&sort=-amount",
        f"/v1/opportunities?limit=2&sort=-amount&cursor={cursor}",
        "/v1/opportunities?amount[gte]=150&amount[lte]=250&status=open",
        "/v1/opportunities?q=%25Deal%25&limit=1", "/v1/opportunities?created_at[gte]=2026-01-01",
        "/v1/opportunities?limit=0", "/v1/opportunities?limit=x&amount[gte]=y&status=gone",
        "/v1/opportunities?amount=1.234", "/v1/opportunities?id[gte]=99999999999999999999",
        "/v1/opportunities?sort=nope", "/v1/opportunities?colour=red",
        "/v1/opportunities?cursor=forged", "/v1/opportunities?name=%00")]
    requests.append(("/v1/opportunities?limit=x", {}))
    lean, fastapi = await answers_of_both(app, client, requests)
    assert lean == fastapi
    assert [status for status, _, _ in lean] == [200] * 6 + [422] * 8 + [401]
    several = lean[7][1]["errors"]
    assert [e["field"] for e in several] == ["limit", "status", "amount[gte]"]


async def test_a_wrong_method_on_a_first_route_is_still_405_with_allow(
        client: AsyncClient, tenant: Tenant, world: World):
    made = await create_opportunity(client, tenant, world.customer_id)
    response = await client.put(f"/v1/opportunities/{made['id']}", headers=tenant.key,
                                json={})
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET, PATCH"
    assert response.headers["content-type"] == "application/problem+json"
