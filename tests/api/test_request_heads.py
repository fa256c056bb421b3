"""A request line or header block over the service's limits is a problem, 414 or 431, with
the request id, before anything else reads the request."""

from collections.abc import AsyncIterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient, Response

from salescore.api.app import create_app
from salescore.settings import Settings
from tests.conftest import TEST_SECRET
from tests.factories import Tenant, asgi_client

MAX_URL = Settings.model_fields["max_url_bytes"].default
MAX_HEADERS = Settings.model_fields["max_header_bytes"].default


def _problem(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["connection"] == "close"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:salescore:problem:")
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def _padded(path: str, size: int) -> str:
    """`path` with a query that makes its target `size` bytes long."""
    start = f"{path}?pad="
    return start + "x" * (size - len(start))


async def test_a_url_over_the_limit_is_414(client: AsyncClient, tenant: Tenant):
    body = _problem(await client.get(_padded("/v1/customers", MAX_URL + 1), headers=tenant.key),
                    414)
    assert body["title"] == HTTPStatus(414).phrase
    assert f"at most {MAX_URL} bytes" in body["detail"]


async def test_a_url_of_the_limit_is_served(client: AsyncClient, tenant: Tenant):
    response = await client.get(_padded("/healthz", MAX_URL), headers=tenant.key)
    assert response.status_code == 200, response.text


async def test_the_path_counts_as_sent_with_its_escapes(client: AsyncClient, tenant: Tenant):
    escaped = "/v1/customers/" + "%41" * (MAX_URL // 3)
    _problem(await client.get(escaped, headers=tenant.key), 414)


async def test_header_fields_over_the_limit_are_431(client: AsyncClient, tenant: Tenant):
    big = {"X-Filler": "x" * MAX_HEADERS}
    body = _problem(await client.get("/v1/customers", headers=tenant.key | big), 431)
    assert body["title"] == HTTPStatus(431).phrase
    assert f"at most {MAX_HEADERS} bytes" in body["detail"]


async def test_many_small_header_fields_count_together(client: AsyncClient, tenant: Tenant):
    many = {f"X-Filler-{n}": "x" * 100 for n in range(MAX_HEADERS // 100)}
    _problem(await client.get("/v1/customers", headers=tenant.key | many), 431)


async def test_the_head_is_refused_before_the_credential_is_read(client: AsyncClient):
    response = await client.get(_padded("/v1/customers", MAX_URL + 1),
                                headers={"Authorization": "Bearer made-up"})
    _problem(response, 414)


@pytest.fixture
async def tight_client(database_url: str, tmp_path: Path) -> AsyncIterator[AsyncClient]:
    settings = Settings(database_url=database_url, jwt_secret=TEST_SECRET, data_dir=tmp_path,
                        max_url_bytes=64, max_header_bytes=512,
                        rate_limit_unauthenticated_per_minute=0)
    async for http in asgi_client(create_app(settings, database_url)):
        yield http


async def test_the_limits_are_settings(tight_client: AsyncClient):
    assert (await tight_client.get(_padded("/healthz", 64))).status_code == 200
    _problem(await tight_client.get(_padded("/healthz", 65)), 414)
    _problem(await tight_client.get("/healthz", headers={"X-Filler": "x" * 512}), 431)
