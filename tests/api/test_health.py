"""Liveness and readiness."""

from httpx import ASGITransport, AsyncClient

from salescore.api.app import create_app
from salescore.settings import Settings


async def test_healthz_answers_without_credentials(client: AsyncClient):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_when_the_database_answers(client: AsyncClient):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_readyz_is_503_when_the_database_does_not_answer():
    app = create_app(Settings(jwt_secret="x"), "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
