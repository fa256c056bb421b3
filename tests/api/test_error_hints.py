"""Errors that say what to send instead: a body of the wrong Content-Type, a read-only
field in a PATCH, a token asked for with JSON or without naming the organization, and a
credential sent without the Bearer scheme. Each is an RFC 9457 problem like every other."""

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.access.organizations import create_organization
from tests.factories import PASSWORD, Tenant, department_names
from tests.opportunity_factories import make_customer, make_process

PROBLEM = "application/problem+json"
BEARER = "Authorization: Bearer <token or API key>"


def _problem(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:salescore:problem:")
    return body


def _messages(body: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body["errors"]}


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_json_sent_without_a_json_content_type_is_415_saying_to_send_it(
        client: AsyncClient, tenant: Tenant, content_type: str | None):
    headers = tenant.admin | ({"Content-Type": content_type} if content_type else {})
    response = await client.post("/v1/departments", content=b'{"name": "Sales"}',
                                 headers=headers)
    body = _problem(response, 415)
    assert "Content-Type: application/json" in body["detail"]
    assert _messages(body)["content-type"].startswith("must be application/json")
    assert response.headers["accept-post"] == "application/json"
    assert await department_names(client, tenant) == []


async def test_a_patch_without_a_json_content_type_is_415_with_accept_patch(
        client: AsyncClient, tenant: Tenant):
    created = await client.post("/v1/departments", json={"name": "Sales"},
                                headers=tenant.admin)
    response = await client.patch(f"/v1/departments/{created.json()['id']}",
                                  content=b'{"name": "Field sales"}',
                                  headers=tenant.admin | {"Content-Type": "text/plain"})
    _problem(response, 415)
    assert response.headers["accept-patch"] == "application/json"
    assert await department_names(client, tenant) == ["Sales"]


async def test_a_json_subtype_is_json_and_an_empty_body_is_still_a_422(
        client: AsyncClient, tenant: Tenant):
    merge = await client.post("/v1/departments", content=b'{"name": "Merge"}', headers=(
        tenant.admin | {"Content-Type": "application/merge-patch+json"}))
    assert merge.status_code == 201, merge.text
    empty = await client.post("/v1/departments", content=b"", headers=tenant.admin)
    assert _messages(_problem(empty, 422)) == {"body": "Field required"}


async def test_the_415_is_documented_wherever_an_operation_takes_a_body(app: FastAPI):
    for operations in app.openapi()["paths"].values():
        for operation in operations.values():
            if "requestBody" in operation:
                assert "415" in operation["responses"], operation["operationId"]


@pytest.mark.parametrize(("field", "hint"), [
    ("status", "POST /v1/opportunities/{id}/win, /lose, /expire or /reopen"),
    ("closed_at", "/win"),
    ("weighted_amount", "derived"),
    ("sellers", "/v1/opportunities/{id}/sellers"),
    ("version", "If-Match"),
    ("created_at", "set by the server"),
])
async def test_a_read_only_field_in_a_patch_is_refused_naming_it_with_what_to_do(
        app: FastAPI, client: AsyncClient, tenant: Tenant, field: str, hint: str):
    await make_process(app, tenant, default_for_all=True)
    customer_id = await make_customer(app, tenant)
    created = await client.post("/v1/opportunities", headers=tenant.admin,
                                json={"name": "Deal", "customer_id": customer_id})
    url = f"/v1/opportunities/{created.json()['id']}"
    for value in ("won", None):
        response = await client.patch(url, json={"name": "Renamed", field: value},
                                      headers=tenant.admin)
        assert hint in _messages(_problem(response, 422))[field]
    unknown = await client.patch(url, json={"colour": "red"}, headers=tenant.admin)
    assert _messages(_problem(unknown, 422)) == {"colour": "Extra inputs are not permitted"}
    read = await client.get(url, headers=tenant.admin)
    assert (read.json()["name"], read.json()["status"]) == ("Deal", "open")


async def test_the_read_only_fields_stay_out_of_the_patch_schema(app: FastAPI):
    schema = app.openapi()["components"]["schemas"]["OpportunityUpdate"]
    assert not {"status", "weighted_amount", "version"} & set(schema["properties"])
    assert schema["additionalProperties"] is False


async def test_a_token_asked_for_with_json_is_415_explaining_the_password_form(
        client: AsyncClient, tenant: Tenant):
    response = await client.post("/v1/auth/token",
                                 json={"username": tenant.admin_email, "password": PASSWORD})
    body = _problem(response, 415)
    for words in ("OAuth2 password form", "application/x-www-form-urlencoded", "`username`",
                  "`password`", "`client_id`", "curl "):
        assert words in body["detail"], words
    assert response.headers["accept-post"] == "application/x-www-form-urlencoded"
    form = await client.post("/v1/auth/token",
                             data={"username": tenant.admin_email, "password": PASSWORD})
    assert form.status_code == 200, form.text
    missing = await client.post("/v1/auth/token", data={"username": tenant.admin_email})
    assert set(_messages(_problem(missing, 422))) == {"password"}


async def test_a_login_in_several_organizations_is_told_to_pass_client_id(
        app: FastAPI, client: AsyncClient, tenant: Tenant):
    other = await create_organization(UnitOfWork(app.state.salescore.sessions), name="Twin",
                                      admin_email=tenant.admin_email, admin_password=PASSWORD)
    form = {"username": tenant.admin_email, "password": PASSWORD}
    message = _messages(_problem(await client.post("/v1/auth/token", data=form), 422))
    assert "client_id=" in message["client_id"]
    for organization_id in (tenant.organization_id, other.organization.id):
        assert str(organization_id) in message["client_id"]
    named = await client.post("/v1/auth/token",
                              data=form | {"client_id": str(other.organization.id)})
    assert named.status_code == 200, named.text


@pytest.mark.parametrize(("authorization", "words"), [
    ("Basic YWRhOnNlY3JldA==", "scheme must be Bearer"),
    ("Token sck_abc", "scheme must be Bearer"),
    ("sck_0123456789", "names no scheme"),
    ("Bearer ", "empty"),
])
async def test_a_credential_without_the_bearer_scheme_is_told_how_to_send_it(
        client: AsyncClient, authorization: str, words: str):
    response = await client.get("/v1/me", headers={"Authorization": authorization})
    body = _problem(response, 401)
    assert words in body["detail"]
    assert BEARER in body["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "sck_" not in body["detail"] and "YWRh" not in body["detail"]


async def test_no_credential_is_told_where_tokens_and_keys_come_from(client: AsyncClient):
    for path in ("/v1/me", "/v1/customers"):
        body = _problem(await client.get(path), 401)
        assert "POST /v1/auth/token" in body["detail"]
        assert "API key" in body["detail"]
