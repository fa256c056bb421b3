"""GET /metrics: requests by route template and status, latency, and the queues' depths;
behind a bearer token when SALESCORE_METRICS_TOKEN is set."""

import logging
import re

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from salescore.api.app import create_app
from salescore.settings import Settings
from tests.factories import Tenant, asgi_client
from tests.opportunity_factories import make_world


def series(text: str, name: str) -> dict[str, float]:
    """The samples of one metric: their label text -> value."""
    found = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            labels, _, value = line[len(name):].rpartition(" ")
            found[labels] = float(value)
    return found


async def test_requests_are_counted_by_route_template_and_status(
        app: FastAPI, client: AsyncClient, tenant: Tenant):
    world = await make_world(app, tenant)
    made = await client.post("/v1/opportunities", headers=tenant.admin, json={
        "name": "Fleet", "customer_id": world.customer_id, "amount": "10"})
    assert made.status_code == 201, made.text
    before = series((await client.get("/metrics")).text, "salescore_http_requests_total")
    for _ in range(3):
        await client.get(f"/v1/opportunities/{made.json()['id']}", headers=tenant.key)
    await client.get("/v1/opportunities/999999999", headers=tenant.key)
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    after = series(answer.text, "salescore_http_requests_total")
    key = '{method="GET",route="/v1/opportunities/{opportunity_id}",status="%s"}'
    assert after[key % 200] - before.get(key % 200, 0) == 3
    assert after[key % 404] - before.get(key % 404, 0) == 1
    assert not [labels for labels in after if re.search(r'route="[^"]*/\d', labels)]
    assert series(answer.text, "salescore_http_request_duration_seconds_count")[
        '{method="GET",route="/v1/opportunities/{opportunity_id}"}'] >= 4
    for gauge in ("salescore_webhook_deliveries_pending", "salescore_webhook_oldest_due_seconds",
                  "salescore_emails_queued"):
        assert list(series(answer.text, gauge)) == [""], gauge


async def test_a_request_is_logged_as_one_json_line_with_its_id(
        client: AsyncClient, tenant: Tenant, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.INFO, logger="salescore.access"):
        answer = await client.get("/v1/me", headers={**tenant.key, "X-Request-ID": "abc-1"})
    assert answer.status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "salescore.access"]
    assert any('"request_id": "abc-1"' in line and '"route": "/v1/me"' in line
               and '"status": 200' in line for line in lines), lines


async def test_with_a_token_set_the_metrics_want_it(settings: Settings, database_url: str):
    guarded = create_app(settings.model_copy(update={"metrics_token": "s3cret"}),
                         database_url)
    async for http in asgi_client(guarded):
        assert (await http.get("/metrics")).status_code == 401
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["content-type"] == "application/problem+json"
        right = await http.get("/metrics", headers={"Authorization": "Bearer s3cret"})
        assert right.status_code == 200 and "salescore_http_requests_total" in right.text
