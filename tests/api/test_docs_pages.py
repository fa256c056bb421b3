"""/docs and /redoc work offline: every file they load is the service's own, and their
Content-Security-Policy lets them load nothing from elsewhere."""

import re

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from salescore.api.docs_pages import ASSETS, MEDIA_TYPES

PAGES = ["/docs", "/redoc"]
_LINKS = re.compile(r'\b(?:src|href|spec-url)="([^"]*)"')


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in
            (part.split() for part in policy.split(";") if part.strip())}


@pytest.mark.parametrize("path", PAGES)
async def test_a_docs_page_loads_only_files_of_this_service(client: AsyncClient, path: str):
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    links = _LINKS.findall(response.text)
    assert f"{ASSETS}/favicon.png" in links
    for link in links:
        assert link.startswith("/") and not link.startswith("//"), link
    assert "://" not in response.text
    assert "fonts.googleapis" not in response.text


@pytest.mark.parametrize("path", PAGES)
async def test_a_docs_page_allows_nothing_from_another_origin(client: AsyncClient, path: str):
    policy = _directives((await client.get(path)).headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    for values in policy.values():
        assert not any("://" in value or value in {"*", "https:", "http:"} for value in values)
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]


async def test_the_swagger_ui_script_runs_by_the_nonce_of_its_answer(client: AsyncClient):
    first, second = await client.get("/docs"), await client.get("/docs")
    nonces = [re.findall(r'<script nonce="([^"]+)">', page.text) for page in (first, second)]
    assert [len(found) for found in nonces] == [1, 1]
    assert nonces[0] != nonces[1]
    policy = _directives(first.headers["content-security-policy"])
    assert policy["script-src"] == ["'self'", f"'nonce-{nonces[0][0]}'"]
    assert policy["style-src"] == ["'self'"]


@pytest.mark.parametrize(("name", "media_type"), MEDIA_TYPES.items())
async def test_the_files_of_the_docs_pages_are_served(client: AsyncClient, name: str,
                                                      media_type: str):
    response = await client.get(f"{ASSETS}/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "immutable" in response.headers["cache-control"]
    assert len(response.content) > 1000


async def test_a_file_the_docs_pages_do_not_use_is_a_404_problem(client: AsyncClient):
    for path in (f"{ASSETS}/core.py", f"{ASSETS}/..%2F__init__.py", "/docs/assets/0.0/favicon.png"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"


def test_the_docs_pages_are_not_in_the_spec(app: FastAPI):
    assert not [path for path in app.openapi()["paths"] if path.startswith(("/docs", "/redoc"))]
