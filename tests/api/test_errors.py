"""Every error is an RFC 9457 problem: typed, titled, with its status, naming the offending
field where there is one, and never showing how the server is built."""

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import make_url

from salescore.api.app import create_app
from salescore.settings import Settings
from tests.conftest import TEST_SECRET
from tests.factories import Tenant, asgi_client, department_names, make_user
from tests.opportunity_factories import sql

LIMIT = 100


def _assert_problem(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:salescore:problem:")
    assert body["title"]
    assert "Traceback" not in response.text
    assert ".py" not in response.text
    return body


def _field(response: Response, status: int = 422) -> str:
    field: str = _assert_problem(response, status)["errors"][0]["field"]
    return field


@pytest.fixture
async def small_client(database_url: str, tmp_path: Path) -> AsyncIterator[AsyncClient]:
    """A client on an app that accepts bodies of at most LIMIT bytes."""
    settings = Settings(database_url=database_url, jwt_secret=TEST_SECRET, data_dir=tmp_path,
                        max_body_bytes=LIMIT)
    async for http in asgi_client(create_app(settings, database_url)):
        yield http


@pytest.fixture
async def failing_client(database_url: str, tmp_path: Path) -> AsyncIterator[AsyncClient]:
    """A client on an app with a route that fails unexpectedly."""
    settings = Settings(database_url=database_url, jwt_secret=TEST_SECRET, data_dir=tmp_path)
    app = create_app(settings, database_url)

    async def boom() -> None:
        raise RuntimeError("secret detail")

    app.add_api_route("/test-only/boom", boom, methods=["GET"])
    async for http in asgi_client(app):
        yield http


async def test_an_unknown_route_is_a_404_problem(client: AsyncClient, tenant: Tenant):
    for path in ("/v1/nothing-here", "/v2/users", "/"):
        _assert_problem(await client.get(path, headers=tenant.admin), 404)


async def test_a_wrong_method_is_a_405_problem(client: AsyncClient, tenant: Tenant):
    response = await client.delete("/v1/me", headers=tenant.admin)
    _assert_problem(response, 405)
    assert "GET" in response.headers["allow"]
    _assert_problem(await client.put("/v1/users", json={}, headers=tenant.admin), 405)


@pytest.mark.parametrize("content", [b"{not json", b'{"name": "x",}', b"\xff\xfe"])
async def test_a_body_that_is_not_json_is_refused_as_body(client: AsyncClient, tenant: Tenant,
                                                          content: bytes):
    response = await client.post("/v1/departments", content=content,
                                 headers=tenant.admin | {"Content-Type": "application/json"})
    assert _field(response) == "body"
    assert await department_names(client, tenant) == []


async def test_a_body_that_is_not_an_object_is_refused(client: AsyncClient, tenant: Tenant):
    for body in ([], "name", 3, None):
        response = await client.post("/v1/departments", json=body, headers=tenant.admin)
        assert _field(response) == "body"
    assert await department_names(client, tenant) == []


@pytest.mark.parametrize(("body", "field"), [
    ({"name": 123, "email": "a@x.test"}, "name"),
    ({"name": "A", "email": "a@x.test", "active": "perhaps"}, "active"),
    ({"name": "A", "email": "a@x.test", "department_id": "one"}, "department_id"),
    ({"name": "A", "email": "a@x.test", "department_id": 0}, "department_id"),
    ({"name": "A", "email": "a@x.test", "sales_group_ids": ["x"]}, "sales_group_ids.0"),
    ({"name": "A", "email": "a@x.test", "password": "short"}, "password"),
    ({"name": "   ", "email": "a@x.test"}, "name"),
    ({"name": " " + "x" * 200, "email": "a@x.test"}, "name"),
    ({"name": "\x1c", "email": "a@x.test"}, "name"),
    ({"name": "a\x00b", "email": "a@x.test"}, "name"),
    ({"name": "A", "email": "a@x.test", "initials": "\x00"}, "initials"),
    ({"email": "a@x.test"}, "name"),
    ({"name": "A", "email": "not-an-email"}, "email"),
])
async def test_a_wrong_value_is_refused_naming_its_field(
        client: AsyncClient, tenant: Tenant, body: dict[str, Any], field: str):
    response = await client.post("/v1/users", json=body, headers=tenant.admin)
    assert _field(response) == field
    listed = await client.get("/v1/users", params={"email": "a@x.test"}, headers=tenant.admin)
    assert listed.json()["data"] == []


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/users", {"name": "A", "email": "a@x.test", "active": 0}),
    ("/v1/lists/sources", {"name": "Fair", "active": 0}),
    ("/v1/campaigns", {"name": "Spring", "active": 1}),
    ("/v1/sales-processes", {"name": "P", "active": "true",
                             "stages": [{"name": "S", "probability": "10.00"}]}),
    ("/v1/activities", {"kind": "task", "subject": "Call", "done": 0}),
])
async def test_a_flag_is_json_true_or_false_never_a_number_or_a_string(
        client: AsyncClient, tenant: Tenant, path: str, body: dict[str, Any]):
    key = next(name for name in ("active", "done") if name in body)
    response = await client.post(path, json=body, headers=tenant.admin)
    assert _field(response) == key
    assert (await client.patch("/v1/settings", json={"reminder_task_enabled": 1},
                               headers=tenant.admin)).status_code == 422


async def test_an_unknown_enum_value_is_refused(client: AsyncClient, tenant: Tenant):
    response = await client.post("/v1/users", headers=tenant.admin,
                                 json={"name": "A", "email": "a@x.test", "role": "boss"})
    assert _field(response) == "role"
    response = await client.post("/v1/sales-groups", headers=tenant.admin,
                                 json={"name": "G", "group_type": "SALES"})
    assert _field(response) == "group_type"


async def test_a_bad_path_id_is_refused_naming_it(client: AsyncClient, tenant: Tenant):
    assert _field(await client.get("/v1/users/abc", headers=tenant.admin)) == "user_id"
    assert _field(await client.get("/v1/users/0", headers=tenant.admin)) == "user_id"


async def test_every_kind_of_error_is_a_problem(client: AsyncClient, tenant: Tenant):
    user = await make_user(client, tenant)
    seller = tenant.token_for(user["id"])
    await client.post("/v1/departments", json={"name": "Dup"}, headers=tenant.admin)
    cases = [
        (await client.get("/v1/me"), 401),
        (await client.get("/v1/me", headers={"Authorization": "Bearer sck_nope"}), 401),
        (await client.post("/v1/departments", json={"name": "X"}, headers=seller), 403),
        (await client.get("/v1/users/999999999", headers=tenant.admin), 404),
        (await client.post("/v1/departments", json={"name": "Dup"}, headers=tenant.admin), 409),
        (await client.patch(f"/v1/users/{user['id']}", json={"name": "N"},
                            headers=tenant.admin | {"If-Match": '"7"'}), 412),
        (await client.patch(f"/v1/users/{user['id']}", json={"name": "N"},
                            headers=tenant.admin | {"If-Match": "garbage"}), 412),
        (await client.get("/v1/users", params={"limit": 0}, headers=tenant.admin), 422),
    ]
    for response, status in cases:
        body = _assert_problem(response, status)
        assert body["detail"]
        assert body["request_id"] == response.headers["x-request-id"]


async def test_a_body_over_the_limit_announced_by_its_length_is_413(
        small_client: AsyncClient, client: AsyncClient, tenant: Tenant):
    body = {"name": "x" * LIMIT}
    response = await small_client.post("/v1/departments", json=body, headers=tenant.admin)
    _assert_problem(response, 413)
    keyed = await small_client.post("/v1/departments", json=body,
                                    headers=tenant.admin | {"Idempotency-Key": "big-1"})
    _assert_problem(keyed, 413)
    assert await department_names(client, tenant) == []


async def test_a_streamed_body_over_the_limit_is_413(small_client: AsyncClient,
                                                     client: AsyncClient, tenant: Tenant):
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 20
        yield b'"}'

    for extra in ({}, {"Idempotency-Key": "big-2"}):
        headers = tenant.admin | {"Content-Type": "application/json"} | extra
        response = await small_client.post("/v1/departments", content=chunks(),
                                           headers=headers)
        assert "content-length" not in response.request.headers
        _assert_problem(response, 413)
    assert await department_names(client, tenant) == []


async def test_a_body_under_the_limit_is_accepted(small_client: AsyncClient, tenant: Tenant):
    response = await small_client.post("/v1/departments", json={"name": "Small"},
                                       headers=tenant.admin)
    assert response.status_code == 201, response.text


async def test_an_unexpected_failure_is_a_generic_500_with_the_request_id(
        failing_client: AsyncClient):
    for given in ({}, {"X-Request-ID": "trace-me-42"}):
        response = await failing_client.get("/test-only/boom", headers=given)
        body = _assert_problem(response, 500)
        assert "secret detail" not in response.text
        assert "RuntimeError" not in response.text
        assert body["request_id"] == response.headers["x-request-id"]
        if given:
            assert body["request_id"] == "trace-me-42"


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/v1/campaigns", {"name": "C", "starts_on": 0}, "starts_on"),
    ("/v1/campaigns", {"name": "C", "ends_on": "2026-01-01T00:00:00Z"}, "ends_on"),
    ("/v1/campaigns", {"name": "C", "starts_on": "01.02.2026"}, "starts_on"),
    ("/v1/activities", {"kind": "task", "subject": "S", "due_at": 1700000000}, "due_at"),
    ("/v1/activities", {"kind": "task", "subject": "S", "due_at": "2026-12-01"}, "due_at"),
    ("/v1/activities", {"kind": "task", "subject": "S",
                        "due_at": "0001-01-01T00:00:00+01:00"}, "due_at"),
    ("/v1/exchange-rates", {"currency": "EUR", "rate": "11.5", "valid_from": 20260101},
     "valid_from"),
])
async def test_dates_and_times_in_a_body_are_iso_text_or_refused_naming_it(
        client: AsyncClient, tenant: Tenant, path: str, body: dict[str, Any], field: str):
    response = await client.post(path, json=body, headers=tenant.admin)
    assert _field(response) == field
    listed = await client.get(path, headers=tenant.admin)
    assert listed.json()["data"] == []


@pytest.mark.parametrize("if_match", ["", "garbage", '"²"'.encode("latin-1")])
async def test_an_if_match_naming_no_version_is_412_only_for_an_otherwise_valid_request(
        client: AsyncClient, tenant: Tenant, if_match: str | bytes):
    """Bad input is refused as such (422 naming the field) before any precondition is
    weighed; a valid write whose `If-Match` names no version matches none."""
    user = await make_user(client, tenant)
    headers: dict[str, str | bytes] = {**tenant.admin, "If-Match": if_match}
    url = f"/v1/users/{user['id']}"
    assert _field(await client.patch(url, json={"name": 5}, headers=headers)) == "name"
    assert _field(await client.delete("/v1/departments/0", headers=headers)) == "unit_id"
    _assert_problem(await client.patch(url, json={"name": "N"}, headers=headers), 412)
    assert (await client.get(url, headers=tenant.admin)).json()["name"] == user["name"]


async def test_a_body_that_cannot_be_read_is_400_and_every_body_documents_it(
        app: FastAPI, client: AsyncClient, tenant: Tenant):
    """A body that is not text (not UTF-8) cannot be parsed at all: 400, a status every
    operation that takes a body documents, as every POST documents 409 (its
    Idempotency-Key still running)."""
    response = await client.post("/v1/departments", content=b'{"name": "\xc3\x28"}',
                                 headers=tenant.admin | {"Content-Type": "application/json"})
    _assert_problem(response, 400)
    assert await department_names(client, tenant) == []
    spec = app.openapi()
    for operations in spec["paths"].values():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert "400" in operation["responses"], (method, operation["operationId"])
            if method == "post":
                assert "409" in operation["responses"], operation["operationId"]


async def test_a_log_in_with_text_the_database_cannot_hold_is_refused_naming_it(
        client: AsyncClient, tenant: Tenant):
    form = {"username": tenant.admin_email, "password": "not the password"}
    response = await client.post("/v1/auth/token", data=form | {"username": "a\x00b"})
    assert _field(response) == "username"
    response = await client.post("/v1/auth/token", data=form | {"client_id": str(2**63)})
    assert _field(response) == "client_id"
    response = await client.post("/v1/auth/token", data=form | {"client_id": "²"})
    _assert_problem(response, 401)


@pytest.mark.parametrize("refusal", ["closed port", "too many clients"])
async def test_a_database_that_takes_no_connection_is_503_with_retry_after(
        database_url: str, tmp_path: Path, tenant: Tenant, refusal: str) -> None:
    """Nothing listening, or a server that refuses one more client (a role limited to no
    connection gets the same refusal, 53300, as a full server): a problem to retry, not
    a 500."""
    given, role = make_url(database_url), f"refused_{secrets.token_hex(4)}"
    if refusal == "closed port":
        url = given.set(host="127.0.0.1", port=1, query={})
    else:  # roles belong to the whole server: this one is dropped again below
        await sql(tenant.app, f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0")
        url = given.set(username=role)
    rendered = url.render_as_string(hide_password=False)
    settings = Settings(database_url=rendered, jwt_secret=TEST_SECRET, data_dir=tmp_path)
    try:
        async for http in asgi_client(create_app(settings, rendered)):
            response = await http.get("/v1/me", headers=tenant.key)
            body = _assert_problem(response, 503)
            assert response.headers["retry-after"] == "1"
            assert "again" in body["detail"]
    finally:
        await sql(tenant.app, f"DROP ROLE IF EXISTS {role}")
