"""E-signature providers and their callbacks through the API (DESIGN.md, "Webhooks in")."""

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from standardwebhooks import Webhook

from tests.factories import Tenant, make_user, read_events
from tests.opportunity_factories import World, sql
from tests.quote_flow import make_draft, quote_world, send

TINY_PDF = b"%PDF-1.4\n% signed by the provider\n%%EOF\n"


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await quote_world(app, tenant)


async def make_provider(client: AsyncClient, tenant: Tenant,
                        kind: str = "standard_webhooks") -> dict[str, Any]:
    response = await client.post("/v1/esign-providers", headers=tenant.admin,
                                 json={"name": f"Signer {kind}", "kind": kind})
    assert response.status_code == 201, response.text
    provider: dict[str, Any] = response.json()
    return provider


def standard_body(quote_id: int, kind: str = "quote.signed", **data: Any) -> bytes:
    return json.dumps({"type": kind, "timestamp": datetime.now(UTC).isoformat(),
                       "data": {"quote_id": quote_id,
                                "signer": {"name": "Ola Normann", "email": "ola@kunde.test"},
                                **data}}).encode()


def standard_headers(secret: str, body: bytes, *, delivery: str | None = None,
                     at: datetime | None = None) -> dict[str, str]:
    delivery = delivery or f"msg_{secrets.token_hex(8)}"
    at = at or datetime.now(UTC)
    signature = Webhook(secret).sign(delivery, at, body)
    return {"webhook-id": delivery, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature, "content-type": "application/json"}


async def deliver(client: AsyncClient, provider: dict[str, Any], body: bytes,
                  headers: dict[str, str]) -> Any:
    return await client.post(f"/v1/esign-callbacks/{provider['id']}", content=body,
                             headers=headers)


async def test_a_provider_shows_its_secret_once(client: AsyncClient, app: FastAPI,
                                                tenant: Tenant):
    provider = await make_provider(client, tenant)
    assert provider["secret"].startswith("whsec_")
    assert provider["callback_url"].endswith(f"/v1/esign-callbacks/{provider['id']}")
    read = await client.get(f"/v1/esign-providers/{provider['id']}", headers=tenant.admin)
    assert "secret" not in read.json()
    listed = (await client.get("/v1/esign-providers", headers=tenant.admin)).json()["data"]
    assert "secret" not in json.dumps(listed)
    stored = await sql(app, "SELECT secret_encrypted FROM esign_providers WHERE id = :id",
                       id=provider["id"])
    assert provider["secret"] not in stored


async def test_only_admins_and_integration_keys_keep_providers(client: AsyncClient,
                                                                tenant: Tenant):
    manager = await make_user(client, tenant, role="manager")
    headers = tenant.token_for(manager["id"])
    assert (await client.get("/v1/esign-providers", headers=headers)).status_code == 403
    refused = await client.post("/v1/esign-providers", headers=headers,
                                json={"name": "x", "kind": "docusign_connect"})
    assert refused.status_code == 403
    seller = tenant.token_for((await make_user(client, tenant, role="seller"))["id"])
    assert (await client.get("/v1/esign-providers", headers=seller)).status_code == 403
    made = await client.post("/v1/api-keys", headers=tenant.admin, json={
        "name": "e-sign", "scopes": ["integrations:read", "integrations:write"]})
    key = {"Authorization": f"Bearer {made.json()['secret']}"}
    created = await client.post("/v1/esign-providers", headers=key,
                                json={"name": "x", "kind": "docusign_connect"})
    assert created.status_code == 201, created.text
    assert (await client.get("/v1/esign-providers", headers=key)).status_code == 200


async def test_a_signed_callback_signs_the_quote_once(client: AsyncClient, app: FastAPI,
                                                      tenant: Tenant, world: World):
    provider = await make_provider(client, tenant)
    sent = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    signed_at = (datetime.now(UTC) - timedelta(minutes=2)).replace(microsecond=0)
    body = standard_body(sent["id"], document_pdf_base64=base64.b64encode(TINY_PDF).decode(),
                         signed_at=signed_at.isoformat())
    headers = standard_headers(provider["secret"], body)
    answer = await deliver(client, provider, body, headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"applied": True, "reason": None}
    quote = (await client.get(f"/v1/quotes/{sent['id']}", headers=tenant.admin)).json()
    assert quote["status"] == "signed"
    assert datetime.fromisoformat(quote["responded_at"]) == signed_at
    assert quote["signature_method"] == "provider:standard_webhooks"
    assert quote["signed_by_email"] == "ola@kunde.test"
    document = (await client.get(f"/v1/opportunities/{sent['opportunity_id']}/documents",
                                 headers=tenant.admin)).json()["data"][0]
    assert document["sha256"] == hashlib.sha256(TINY_PDF).hexdigest()
    replay = await deliver(client, provider, body, headers)
    assert replay.status_code == 200 and replay.json()["applied"] is False
    log = (await client.get(f"/v1/esign-providers/{provider['id']}/callbacks",
                            headers=tenant.admin)).json()["data"]
    assert [(e["verified"], e["applied"]) for e in log] == [(True, True)]
    assert "quote.signed" in [e["type"] for e in await read_events(client, tenant)]


@pytest.mark.parametrize("tamper", ["secret", "body", "timestamp", "headers", "garbage"])
async def test_a_bad_signature_is_401_and_changes_nothing(client: AsyncClient, app: FastAPI,
                                                          tenant: Tenant, world: World,
                                                          tamper: str):
    provider = await make_provider(client, tenant)
    sent = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    body = standard_body(sent["id"])
    secret = provider["secret"]
    if tamper == "secret":
        headers = standard_headers("whsec_" + base64.b64encode(b"x" * 32).decode(), body)
    elif tamper == "timestamp":
        headers = standard_headers(secret, body, at=datetime.now(UTC) - timedelta(minutes=6))
    else:
        headers = standard_headers(secret, body)
    if tamper == "body":
        body = body.replace(b"Ola", b"Eve")
    elif tamper == "headers":
        headers.pop("webhook-signature")
    elif tamper == "garbage":
        headers["webhook-signature"] = "v1,%%%not base64"
    answer = await deliver(client, provider, body, headers)
    assert answer.status_code == 401, answer.text
    quote = (await client.get(f"/v1/quotes/{sent['id']}", headers=tenant.admin)).json()
    assert quote["status"] == "sent"
    log = (await client.get(f"/v1/esign-providers/{provider['id']}/callbacks",
                            headers=tenant.admin)).json()["data"]
    assert [e["verified"] for e in log] == [False]


async def test_a_callback_that_cannot_apply_is_acknowledged(client: AsyncClient,
                                                            app: FastAPI, tenant: Tenant,
                                                            other_tenant: Tenant,
                                                            world: World):
    provider = await make_provider(client, tenant)
    draft = await make_draft(client, app, tenant, world)
    foreign = await make_draft(client, app, other_tenant, await quote_world(app, other_tenant))
    for quote_id, reason in ((draft["id"], "not been sent"), (foreign["id"], "no such quote"),
                             (10**12, "no such quote")):
        body = standard_body(quote_id)
        answer = await deliver(client, provider, body, standard_headers(provider["secret"], body))
        assert answer.status_code == 200, answer.text
        assert answer.json()["applied"] is False and reason in answer.json()["reason"]
    assert (await client.get(f"/v1/quotes/{draft['id']}", headers=tenant.admin)
            ).json()["status"] == "draft"


async def test_a_verified_but_malformed_body_is_422(client: AsyncClient, tenant: Tenant):
    provider = await make_provider(client, tenant)
    body = json.dumps({"type": "quote.exploded", "timestamp": "now", "data": {}}).encode()
    answer = await deliver(client, provider, body, standard_headers(provider["secret"], body))
    assert answer.status_code == 422, answer.text


async def test_the_previous_secret_verifies_after_a_rotation(client: AsyncClient,
                                                             app: FastAPI, tenant: Tenant,
                                                             world: World):
    provider = await make_provider(client, tenant)
    rotated = await client.post(f"/v1/esign-providers/{provider['id']}/rotate-secret",
                                headers=tenant.admin)
    assert rotated.status_code == 200 and rotated.json()["secret"] != provider["secret"]
    sent = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    body = standard_body(sent["id"], "quote.rejected", comment="Too dear")
    answer = await deliver(client, provider, body, standard_headers(provider["secret"], body))
    assert answer.status_code == 200 and answer.json()["applied"] is True
    await sql(app, "UPDATE esign_providers SET previous_secret_expires_at = now() "
                   "WHERE id = :id", id=provider["id"])
    late = standard_body(sent["id"])
    assert (await deliver(client, provider, late, standard_headers(provider["secret"], late))
            ).status_code == 401


def docusign_body(quote_id: int, event: str = "envelope-completed") -> bytes:
    return json.dumps({
        "event": event, "generatedDateTime": datetime.now(UTC).isoformat(),
        "data": {"envelopeId": secrets.token_hex(8), "envelopeSummary": {
            "customFields": {"textCustomFields": [
                {"name": "salescore_quote_id", "value": str(quote_id)}]},
            "recipients": {"signers": [{"name": "Dag Dahl", "email": "dag@kunde.test"}]}}},
    }).encode()


def docusign_headers(secret: str, body: bytes) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {"X-DocuSign-Signature-1": "bm90IGl0",
            "X-DocuSign-Signature-2": base64.b64encode(digest).decode(),
            "content-type": "application/json"}


async def test_docusign_connect_completes_and_declines(client: AsyncClient, app: FastAPI,
                                                       tenant: Tenant, world: World):
    provider = await make_provider(client, tenant, "docusign_connect")
    signed = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    body = docusign_body(signed["id"])
    answer = await deliver(client, provider, body, docusign_headers(provider["secret"], body))
    assert answer.status_code == 200 and answer.json()["applied"] is True, answer.text
    quote = (await client.get(f"/v1/quotes/{signed['id']}", headers=tenant.admin)).json()
    assert (quote["status"], quote["signed_by_name"]) == ("signed", "Dag Dahl")
    declined = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    body = docusign_body(declined["id"], "envelope-declined")
    await deliver(client, provider, body, docusign_headers(provider["secret"], body))
    quote = (await client.get(f"/v1/quotes/{declined['id']}", headers=tenant.admin)).json()
    assert quote["status"] == "rejected"
    ignored = docusign_body(declined["id"], "envelope-sent")
    answer = await deliver(client, provider, ignored,
                           docusign_headers(provider["secret"], ignored))
    assert answer.status_code == 200 and answer.json()["applied"] is False
    forged = docusign_body(signed["id"])
    assert (await deliver(client, provider, forged, docusign_headers("wrong", forged))
            ).status_code == 401


async def test_another_organizations_provider_is_not_found(client: AsyncClient,
                                                           tenant: Tenant,
                                                           other_tenant: Tenant):
    provider = await make_provider(client, tenant)
    for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""),
                         ("POST", "/rotate-secret"), ("GET", "/callbacks")):
        answer = await client.request(method, f"/v1/esign-providers/{provider['id']}{path}",
                                      headers=other_tenant.admin,
                                      json={"name": "x"} if method == "PATCH" else None)
        assert answer.status_code == 404, (method, path)


@pytest.mark.parametrize("active", [0, 1, "true", None])
async def test_active_is_true_or_false_only(client: AsyncClient, tenant: Tenant,
                                            active: object):
    provider = await make_provider(client, tenant)
    answer = await client.patch(f"/v1/esign-providers/{provider['id']}",
                                headers=tenant.admin, json={"active": active})
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["active"]
    created = await client.post("/v1/esign-providers", headers=tenant.admin,
                                json={"name": "Loose", "kind": "standard_webhooks",
                                      "active": 1})
    assert created.status_code == 422, created.text
