"""Money, percentages, quantities and rates come in as decimal strings only: a JSON number
is a 422 naming the field and saying how to send it, before anything is looked up."""

from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import Tenant

OPPORTUNITY = "/v1/opportunities/1"
AS_A_NUMBER = [
    ("POST", "/v1/opportunities", {"name": "Deal", "customer_id": 1, "amount": 1250},
     "amount", "1250.00"),
    ("PATCH", OPPORTUNITY, {"probability": 25.5}, "probability", "25.00"),
    ("PATCH", OPPORTUNITY, {"margin_amount": -12.5}, "margin_amount", "300.00"),
    ("POST", f"{OPPORTUNITY}/move", {"stage_id": 1, "probability": 60}, "probability",
     "25.00"),
    ("POST", f"{OPPORTUNITY}/sellers", {"user_id": 1, "share": 50}, "share", "25.00"),
    ("POST", f"{OPPORTUNITY}/lines", {"name": "Licence", "unit_price": "990.00",
                                      "quantity": 2}, "quantity", "2.5"),
    ("PUT", f"{OPPORTUNITY}/orders/erp/A-1", {"amount": 990.0}, "amount", "1250.00"),
    ("POST", "/v1/products", {"sku": "S-1", "name": "Licence", "unit_price": 990},
     "unit_price", "1250.00"),
    ("POST", "/v1/exchange-rates", {"currency": "EUR", "rate": 11.7325,
                                    "valid_from": "2026-01-01"}, "rate", "11.7325"),
]


@pytest.mark.parametrize(("method", "path", "body", "field", "example"), AS_A_NUMBER)
async def test_a_decimal_sent_as_a_json_number_is_refused_saying_to_send_a_string(
        client: AsyncClient, tenant: Tenant, method: str, path: str, body: dict[str, Any],
        field: str, example: str):
    response = await client.request(method, path, json=body, headers=tenant.admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [{
        "field": field,
        "message": f'send the {field} as a decimal string, such as "{example}", not as a '
                   "JSON number"}]


@pytest.mark.parametrize("amount", ["1e3", "1,5", " 12.50", "12.50\n", "+12", ".5", "12.", "",
                                    True])
async def test_a_decimal_is_plain_digits_with_a_dot(client: AsyncClient, tenant: Tenant,
                                                   amount: Any):
    response = await client.post("/v1/opportunities", headers=tenant.admin, json={
        "name": "Deal", "customer_id": 1, "amount": amount})
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{
        "field": "amount", "message": 'must be a decimal string, such as "1250.00"'}]


async def test_a_decimal_string_keeps_the_bounds_of_its_column(client: AsyncClient,
                                                              tenant: Tenant):
    response = await client.patch(OPPORTUNITY, headers=tenant.admin, json={
        "probability": "100.5", "amount": "-1"})
    assert response.status_code == 422, response.text
    assert {e["field"] for e in response.json()["errors"]} == {"probability", "amount"}


async def test_a_filter_takes_the_same_decimal_text(client: AsyncClient, tenant: Tenant):
    listed = await client.get("/v1/opportunities", params={"amount[gte]": "1000.00"},
                              headers=tenant.admin)
    assert listed.status_code == 200, listed.text
    refused = await client.get("/v1/opportunities", params={"amount[gte]": "1e3"},
                               headers=tenant.admin)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "amount[gte]"
