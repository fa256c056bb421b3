"""The Router (api/routing.py) answers exactly as FastAPI's does: its shortcut only skips
routes that could not match (that it is quicker is bench's to show, not a test's). A method
the resource a path names lacks is 405 with `Allow` naming exactly the methods it has."""

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from starlette.routing import BaseRoute, Match

from salescore.api.routing import Router
from tests.factories import Tenant


def _scope(path: str, method: str = "GET") -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def _included(router: Router) -> BaseRoute:
    app = FastAPI()
    app.include_router(router)
    return app.router.routes[-1]


def test_a_path_outside_every_route_is_not_matched_and_one_inside_is():
    router = Router(prefix="/v1/things")

    @router.get("/{thing_id}")
    async def read(thing_id: int) -> None: ...

    included = _included(router)
    assert included.matches(_scope("/v1/other/1"))[0] is Match.NONE
    assert included.matches(_scope("/v1/things/1"))[0] is Match.FULL
    assert included.matches(_scope("/v1/things/1", "POST"))[0] is Match.PARTIAL


def test_a_route_added_later_is_matched():
    router = Router()

    @router.get("/a/{x}")
    async def a(x: int) -> None: ...

    included = _included(router)
    assert included.matches(_scope("/b/1"))[0] is Match.NONE

    @router.get("/b/{y}")
    async def b(y: int) -> None: ...

    assert included.matches(_scope("/b/1"))[0] is Match.FULL
    assert included.matches(_scope("/a/1"))[0] is Match.FULL


def test_a_prefix_given_when_included_is_allowed_for():
    router = Router()

    @router.get("/things/{x}")
    async def read(x: int) -> None: ...

    app = FastAPI()
    app.include_router(router, prefix="/api")
    included = app.router.routes[-1]
    assert included.matches(_scope("/api/things/1"))[0] is Match.FULL
    assert included.matches(_scope("/api/other/1"))[0] is Match.NONE


async def test_every_router_still_answers_its_paths(client: AsyncClient, tenant: Tenant):
    for path in ("/healthz", "/v1/me", "/v1/settings", "/v1/reports/pipeline",
                 "/v1/exchange-rates", "/v1/customers", "/v1/activities",
                 "/v1/lists/sources", "/v1/sales-groups"):
        response = await client.get(path, headers=tenant.admin)
        assert response.status_code == 200, (path, response.text)


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("OPTIONS", "/v1/activities", "GET, POST"),
    ("PUT", "/v1/activities", "GET, POST"),
    ("OPTIONS", "/v1/opportunities/1", "DELETE, GET, PATCH"),
    ("PATCH", "/v1/lists/loss-reasons/order", "PUT"),
    ("GET", "/v1/opportunities/bulk-delete", "POST"),
    ("DELETE", "/v1/sales-processes/1/stages/order", "PUT"),
    ("GET", "/v1/customers/by-external-id/contacts", "PUT"),
    ("POST", "/v1/sales-processes/export", "GET"),
])
async def test_a_method_a_resource_lacks_is_405_listing_exactly_the_methods_it_has(
        client: AsyncClient, tenant: Tenant, method: str, path: str, allow: str):
    """The resource a path names is the template whose literal segments come first:
    `/v1/lists/loss-reasons/order` is the order, not the loss reason of id `order`."""
    response = await client.request(method, path, headers=tenant.key, json={})
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allow
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_a_parameter_segment_still_takes_what_no_literal_route_names(
        client: AsyncClient, tenant: Tenant):
    response = await client.get("/v1/opportunities/by-external-id", headers=tenant.key)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "opportunity_id"
