"""Outbound webhook endpoints, their delivery log, redelivery and recovery through the API
(API.md "Outbound webhooks"), and the list of event types."""

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from salescore.api.deps import webhook_resolver
from salescore.domain.events import EVENT_TYPES
from tests.api.integrations.webhook_factories import (
    URL,
    deliveries,
    listening,
    make_endpoint,
    near_now,
    set_delivery,
    stored,
)
from tests.customer_factories import make_customer
from tests.factories import Tenant, make_user, read_events
from tests.opportunity_factories import create_opportunity, make_process, sql

ENDPOINTS = "/v1/webhook-endpoints"


async def test_the_secret_is_shown_only_when_made_and_rotated(client: AsyncClient,
                                                              app: FastAPI, tenant: Tenant):
    endpoint = await make_endpoint(client, tenant, description="ERP")
    first = endpoint["secret"]
    assert first.startswith("whsec_") and len(base64.b64decode(first[6:])) == 32
    path = f"{ENDPOINTS}/{endpoint['id']}"
    read = await client.get(path, headers=tenant.admin)
    assert read.status_code == 200 and "secret" not in read.json()
    assert read.headers["etag"] == '"1"'
    listed = (await client.get(ENDPOINTS, headers=tenant.admin)).json()["data"]
    assert [e["id"] for e in listed] == [endpoint["id"]] and "secret" not in listed[0]
    kept = await stored(app, "webhook_endpoints", endpoint["id"], "secret_encrypted")
    assert first not in kept and first[6:] not in kept
    rotated = await client.post(f"{path}/rotate-secret", headers=tenant.admin)
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["secret"]
    assert second.startswith("whsec_") and second != first
    assert rotated.json()["version"] == 2 and rotated.headers["etag"] == '"2"'
    assert await stored(app, "webhook_endpoints", endpoint["id"],
                        "previous_secret_encrypted") == kept
    expires = await stored(app, "webhook_endpoints", endpoint["id"],
                           "previous_secret_expires_at")
    assert abs(expires - datetime.now(UTC) - timedelta(hours=24)) < timedelta(minutes=1)
    assert "secret" not in (await client.get(path, headers=tenant.admin)).json()
    events = await read_events(client, tenant, "webhook_endpoint.created,"
                                               "webhook_endpoint.secret_rotated")
    assert [e["type"] for e in events] == ["webhook_endpoint.created",
                                           "webhook_endpoint.secret_rotated"]
    assert events[0]["data"] == {"url": URL, "description": "ERP", "event_types": [],
                                 "active": True, "disabled_reason": None}
    every = json.dumps(await read_events(client, tenant))
    assert first[6:] not in every and second[6:] not in every and "secret_encrypted" not in every


async def test_an_endpoint_is_edited_and_deleted_with_if_match(client: AsyncClient,
                                                               tenant: Tenant):
    endpoint = await make_endpoint(client, tenant)
    path = f"{ENDPOINTS}/{endpoint['id']}"
    changed = await client.patch(path, headers={**tenant.admin, "If-Match": '"1"'}, json={
        "url": "https://other.example.com/in", "description": "Orders",
        "event_types": ["order.linked", "quote.signed", "order.linked"]})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["url"], body["description"], body["event_types"], body["version"]) == (
        "https://other.example.com/in", "Orders", ["order.linked", "quote.signed"], 2)
    same = await client.patch(path, headers=tenant.admin, json={
        "url": body["url"], "event_types": body["event_types"], "active": True})
    assert same.json()["version"] == 2 and same.headers["etag"] == '"2"'
    cleared = await client.patch(path, headers=tenant.admin, json={"description": None})
    assert cleared.json()["description"] is None and cleared.json()["version"] == 3
    for method, extra in (("PATCH", ""), ("DELETE", ""), ("POST", "/rotate-secret")):
        stale = await client.request(method, path + extra, json={"description": "x"}
                                     if method == "PATCH" else None,
                                     headers={**tenant.admin, "If-Match": '"1"'})
        assert stale.status_code == 412, (method, stale.text)
    deleted = await client.delete(path, headers={**tenant.admin, "If-Match": '"3"'})
    assert deleted.status_code == 204
    assert (await client.get(path, headers=tenant.admin)).status_code == 404
    types = [e["type"] for e in await read_events(client, tenant)
             if e["type"].startswith("webhook_endpoint.")]
    assert types == ["webhook_endpoint.created", "webhook_endpoint.updated",
                     "webhook_endpoint.updated", "webhook_endpoint.deleted"]


@pytest.mark.parametrize(("body", "field"), [
    ({"url": "http://hooks.example.com/"}, "url"), ({"url": "/relative"}, "url"),
    ({"url": "hooks.example.com"}, "url"), ({"url": "https://u:p@hooks.example.com/"}, "url"),
    ({"url": "https://" + "a" * 2050 + ".com/"}, "url"), ({"url": "https://localhost/"}, "url"),
    ({"url": "https://127.0.0.1/"}, "url"), ({"url": "https://10.0.0.1/"}, "url"),
    ({"url": "https://172.20.0.1/"}, "url"), ({"url": "https://192.168.0.10/"}, "url"),
    ({"url": "https://169.254.169.254/"}, "url"), ({"url": "https://100.64.0.1/"}, "url"),
    ({"url": "https://224.0.0.1/"}, "url"), ({"url": "https://240.0.0.1/"}, "url"),
    ({"url": "https://0.0.0.0/"}, "url"), ({"url": "https://[::1]/"}, "url"),
    ({"url": "https://[fe80::1]/"}, "url"), ({"url": "https://[::ffff:8.8.8.8]/"}, "url"),
    ({"url": "https://2130706433/"}, "url"),
    ({"url": URL, "event_types": ["opportunity.exploded"]}, "event_types"),
    ({"url": URL, "description": "x" * 1001}, "description"),
])
async def test_a_refused_field_is_422_naming_it_and_nothing_is_written(
        client: AsyncClient, app: FastAPI, tenant: Tenant, body: dict[str, Any], field: str):
    made = await client.post(ENDPOINTS, headers=tenant.admin, json=body)
    assert made.status_code == 422, made.text
    assert [e["field"] for e in made.json()["errors"]] == [field]
    assert (await client.get(ENDPOINTS, headers=tenant.admin)).json()["data"] == []
    endpoint = await make_endpoint(client, tenant)
    patched = await client.patch(f"{ENDPOINTS}/{endpoint['id']}", headers=tenant.admin,
                                 json=body)
    assert patched.status_code == 422 and patched.json()["errors"][0]["field"] == field
    assert await stored(app, "webhook_endpoints", endpoint["id"], "version") == 1


async def test_another_organizations_endpoint_and_delivery_are_not_found(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant):
    endpoint = await make_endpoint(client, tenant)
    await make_customer(client, tenant)
    delivery = (await deliveries(client, tenant, endpoint["id"]))[0]
    for method, path, body in (
            ("GET", "", None), ("PATCH", "", {"description": "x"}), ("DELETE", "", None),
            ("POST", "/rotate-secret", None), ("GET", "/deliveries", None),
            ("POST", "/recover", {"since": "2020-01-01T00:00:00Z"})):
        answer = await client.request(method, f"{ENDPOINTS}/{endpoint['id']}{path}",
                                      headers=other_tenant.admin, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
    for method, path in (("GET", "/attempts"), ("POST", "/redeliver")):
        answer = await client.request(method, f"/v1/webhook-deliveries/{delivery['id']}{path}",
                                      headers=other_tenant.admin)
        assert answer.status_code == 404, (method, path, answer.text)
    assert (await client.get(ENDPOINTS, headers=other_tenant.admin)).json()["data"] == []


async def test_only_admins_and_webhook_keys_keep_endpoints(client: AsyncClient,
                                                           tenant: Tenant):
    for role in ("manager", "seller"):
        headers = tenant.token_for((await make_user(client, tenant, role=role))["id"])
        assert (await client.get(ENDPOINTS, headers=headers)).status_code == 403
        refused = await client.post(ENDPOINTS, headers=headers, json={"url": URL})
        assert refused.status_code == 403
        assert (await client.get("/v1/event-types", headers=headers)).status_code == 200
    made = await client.post("/v1/api-keys", headers=tenant.admin, json={
        "name": "hooks", "scopes": ["webhooks:read", "webhooks:write"]})
    key = {"Authorization": f"Bearer {made.json()['secret']}"}
    assert (await client.post(ENDPOINTS, headers=key, json={"url": URL})).status_code == 201
    assert (await client.get(ENDPOINTS, headers=key)).status_code == 200
    assert (await client.get("/v1/event-types", headers=key)).status_code == 403


async def test_the_outbox_queues_a_delivery_for_each_endpoint_that_takes_the_event(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    every = await make_endpoint(client, tenant)
    deals = await make_endpoint(client, tenant, event_types=["opportunity.created"])
    quotes = await make_endpoint(client, tenant, event_types=["quote.signed"])
    asleep = await make_endpoint(client, tenant, active=False)
    assert asleep["disabled_reason"] == "disabled through the API"
    await make_process(app, tenant, default_for_all=True)
    customer = await make_customer(client, tenant)
    deal = await create_opportunity(client, tenant, customer["id"])
    seen = {d["event_type"] for d in await deliveries(client, tenant, every["id"])}
    assert {"customer.created", "opportunity.created"} <= seen
    [queued] = await deliveries(client, tenant, deals["id"])
    assert (queued["event_type"], queued["status"], queued["attempt_count"]) == (
        "opportunity.created", "pending", 0)
    assert queued["endpoint_id"] == deals["id"] and queued["succeeded_at"] is None
    created = await read_events(client, tenant, "opportunity.created")
    assert queued["event_id"] == created[0]["id"] and created[0]["aggregate_id"] == deal["id"]
    assert await deliveries(client, tenant, quotes["id"]) == []
    assert await deliveries(client, tenant, asleep["id"]) == []
    pending = await deliveries(client, tenant, every["id"], status="pending", sort="-id")
    assert [d["id"] for d in pending] == sorted((d["id"] for d in pending), reverse=True)
    bad = await client.get(f"{ENDPOINTS}/{every['id']}/deliveries", headers=tenant.admin,
                           params={"status": "lost"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"


async def test_disabling_fails_what_was_pending_and_enabling_clears_it(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    endpoint = await make_endpoint(client, tenant, event_types=["customer.created"])
    path = f"{ENDPOINTS}/{endpoint['id']}"
    await make_customer(client, tenant)
    off = await client.patch(path, headers=tenant.admin, json={"active": False})
    assert off.status_code == 200, off.text
    assert (off.json()["active"], off.json()["disabled_reason"]) == (
        False, "disabled through the API")
    assert near_now(off.json()["disabled_at"]) and off.json()["version"] == 2
    [failed] = await deliveries(client, tenant, endpoint["id"])
    assert (failed["status"], failed["last_error"]) == ("failed", "endpoint disabled")
    await make_customer(client, tenant)
    assert len(await deliveries(client, tenant, endpoint["id"])) == 1
    await sql(app, "UPDATE webhook_endpoints SET failing_since = now() WHERE id = :id",
              id=endpoint["id"])
    on = await client.patch(path, headers=tenant.admin, json={"active": True})
    assert (on.json()["active"], on.json()["disabled_at"], on.json()["disabled_reason"]) == (
        True, None, None)
    assert await stored(app, "webhook_endpoints", endpoint["id"], "failing_since") is None
    changes = [e["data"]["changes"] for e in await read_events(
        client, tenant, "webhook_endpoint.updated")]
    assert [c["active"]["to"] for c in changes] == [False, True]


async def test_redeliver_queues_it_again_now_and_wakes_the_workers(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    endpoint = await make_endpoint(client, tenant, event_types=["customer.created"])
    await make_customer(client, tenant)
    [delivery] = await deliveries(client, tenant, endpoint["id"])
    await set_delivery(app, delivery["id"], status="failed", attempt_count=8, attempts_due=8,
                       last_status_code=500, last_error="HTTP 500",
                       next_attempt_at=datetime.now(UTC) + timedelta(days=1),
                       leased_until=datetime.now(UTC) + timedelta(minutes=5))
    connection, heard = await listening(app)
    try:
        again = await client.post(f"/v1/webhook-deliveries/{delivery['id']}/redeliver",
                                  headers=tenant.admin)
        assert again.status_code == 202, again.text
        assert await asyncio.wait_for(heard.get(), 5) == ""
    finally:
        await connection.close()
    body = again.json()
    assert (body["status"], body["attempt_count"], body["last_error"],
            body["last_status_code"]) == ("pending", 8, "HTTP 500", 500)
    assert near_now(body["next_attempt_at"])
    assert await stored(app, "webhook_deliveries", delivery["id"], "attempts_due") == 0
    assert await stored(app, "webhook_deliveries", delivery["id"], "leased_until") is None
    await client.patch(f"{ENDPOINTS}/{endpoint['id']}", headers=tenant.admin,
                       json={"active": False})
    refused = await client.post(f"/v1/webhook-deliveries/{delivery['id']}/redeliver",
                                headers=tenant.admin)
    assert refused.status_code == 409, refused.text


async def test_recover_queues_the_failed_and_the_never_queued_but_not_the_delivered(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    endpoint = await make_endpoint(client, tenant, event_types=["customer.created"])
    path = f"{ENDPOINTS}/{endpoint['id']}"
    since = datetime.now(UTC).isoformat()
    for _ in range(3):
        await make_customer(client, tenant)
    delivered, failed, waiting = await deliveries(client, tenant, endpoint["id"])
    await set_delivery(app, delivered["id"], status="succeeded", attempt_count=1,
                       succeeded_at=datetime.now(UTC))
    await set_delivery(app, failed["id"], status="failed", attempt_count=8, attempts_due=8,
                       last_error="timed out")
    await client.patch(path, headers=tenant.admin, json={"active": False})
    refused = await client.post(f"{path}/recover", headers=tenant.admin, json={"since": since})
    assert refused.status_code == 409, refused.text
    for _ in range(2):
        await make_customer(client, tenant)  # never queued: the endpoint is inactive
    await client.patch(path, headers=tenant.admin, json={"active": True})
    connection, heard = await listening(app)
    try:
        recovered = await client.post(f"{path}/recover", headers=tenant.admin,
                                      json={"since": since})
        assert recovered.status_code == 202, recovered.text
        assert await asyncio.wait_for(heard.get(), 5) == ""
    finally:
        await connection.close()
    # the failed one, `waiting` (failed by the disabling) and the two never queued
    assert recovered.json() == {"queued": 4}
    now = {d["event_id"]: d for d in await deliveries(client, tenant, endpoint["id"])}
    assert len(now) == 5 and now[delivered["event_id"]]["status"] == "succeeded"
    assert {d["status"] for k, d in now.items() if k != delivered["event_id"]} == {"pending"}
    assert now[failed["event_id"]]["attempt_count"] == 8
    assert now[failed["event_id"]]["last_error"] == "timed out"
    assert await stored(app, "webhook_deliveries", failed["id"], "attempts_due") == 0
    assert waiting["id"] in {d["id"] for d in now.values()}
    again = await client.post(f"{path}/recover", headers=tenant.admin, json={"since": since})
    assert again.json() == {"queued": 0}
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await client.post(f"{path}/recover", headers=tenant.admin,
                              json={"since": later})).json() == {"queued": 0}
    naive = await client.post(f"{path}/recover", headers=tenant.admin,
                              json={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "since"


async def test_the_attempts_of_a_delivery_are_listed(client: AsyncClient, app: FastAPI,
                                                      tenant: Tenant):
    endpoint = await make_endpoint(client, tenant, event_types=["customer.created"])
    await make_customer(client, tenant)
    [delivery] = await deliveries(client, tenant, endpoint["id"])
    for code, error in ((503, "HTTP 503"), (None, "connection refused"), (200, None)):
        await sql(app, "INSERT INTO webhook_attempts (organization_id, delivery_id, "
                       "attempted_at, status_code, duration_ms, error, response_excerpt) "
                       "VALUES (:org, :delivery, now(), :code, 42, :error, 'ok')",
                  org=tenant.organization_id, delivery=delivery["id"], code=code, error=error)
    path = f"/v1/webhook-deliveries/{delivery['id']}/attempts"
    first = (await client.get(path, headers=tenant.admin, params={"limit": 2})).json()
    rest = (await client.get(path, headers=tenant.admin,
                             params={"limit": 2, "cursor": first["next_cursor"]})).json()
    attempts = first["data"] + rest["data"]
    assert [(a["status_code"], a["error"]) for a in attempts] == [
        (503, "HTTP 503"), (None, "connection refused"), (200, None)]
    assert attempts[0]["duration_ms"] == 42 and attempts[0]["response_excerpt"] == "ok"
    assert rest["next_cursor"] is None and near_now(attempts[0]["attempted_at"])


async def test_the_event_types_are_the_registry_sorted(client: AsyncClient, tenant: Tenant):
    answer = await client.get("/v1/event-types", headers=tenant.key)
    assert answer.status_code == 200
    listed = answer.json()["data"]
    assert [t["type"] for t in listed] == sorted(EVENT_TYPES)
    assert {t["type"]: t["description"] for t in listed} == EVENT_TYPES


async def test_a_name_that_resolves_to_a_refused_address_is_refused_when_saved(
        app: FastAPI, client: AsyncClient, tenant: Tenant):
    """The host is resolved when saved: to a refused address, 422 naming `url`; not at all
    (no such name here), taken, as every send checks it again."""
    async def to_loopback(host: str, port: int) -> list[IPv4Address | IPv6Address]:
        return [ip_address("93.184.216.34"), ip_address("127.0.0.1")]

    taken = await client.post("/v1/webhook-endpoints", headers=tenant.admin,
                              json={"url": "https://erp.unknown-name.invalid/hook"})
    assert taken.status_code == 201, taken.text
    app.dependency_overrides[webhook_resolver] = lambda: to_loopback
    try:
        refused = await client.post("/v1/webhook-endpoints", headers=tenant.admin,
                                    json={"url": "https://rebinding.example.com/hook"})
        moved = await client.patch(f"/v1/webhook-endpoints/{taken.json()['id']}",
                                   headers=tenant.admin,
                                   json={"url": "https://rebinding.example.com/hook"})
    finally:
        app.dependency_overrides.clear()
    for answer in (refused, moved):
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == "url"
        assert "loopback" in answer.json()["errors"][0]["message"]
    listed = await client.get("/v1/webhook-endpoints", headers=tenant.admin)
    assert [e["url"] for e in listed.json()["data"]] == ["https://erp.unknown-name.invalid/hook"]
