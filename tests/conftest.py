"""Test databases: a fresh PostgreSQL database per run, on the server that
SALESCORE_TEST_DATABASE_URL names (any database of it; the run creates its own beside it)
or else on an embedded server in a temporary directory. Dropped at the end."""

import asyncio
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher, profiles
from fastapi import FastAPI
from httpx import AsyncClient

from salescore.api.app import create_app
from salescore.database_server import create_database, migrate
from salescore.services.access.credentials import use_password_hasher
from salescore.settings import Settings
from tests.databases import drop_database, with_database
from tests.factories import Tenant, asgi_client, new_tenant

TEST_SECRET = "test-secret-for-signing-tokens-0123456789"
# argon2's defaults cost 0.14 s a hash: in-process tests make thousands of users. Servers
# the e2e tests start hash as served.
use_password_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.fixture(scope="session")
def admin_dsn() -> Iterator[str]:
    """A plain libpq URL to a maintenance database of the server the tests use."""
    configured = os.environ.get("SALESCORE_TEST_DATABASE_URL")
    if configured:
        yield with_database(configured, urlsplit(configured).path.lstrip("/") or "postgres")
        return
    from pgserver.postgres_server import get_server

    with tempfile.TemporaryDirectory(prefix="salescore-test-") as directory:
        server = get_server(Path(directory) / "pg", cleanup_mode="delete")
        socket_dir = server.get_postmaster_info().socket_dir
        yield f"postgresql://postgres@/postgres?host={socket_dir}"
        server.cleanup()


@pytest.fixture(scope="session")
def database_url(admin_dsn: str) -> Iterator[str]:
    """A fresh, migrated database for this run (asyncpg URL), dropped afterwards."""
    name = f"salescore_test_{secrets.token_hex(4)}"
    asyncio.run(create_database(admin_dsn, name))
    url = with_database(admin_dsn, name, "asyncpg")
    migrate(url)
    yield url
    asyncio.run(drop_database(admin_dsn, name))


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """The suite sends many requests fast, from one address: rate limits and login
    throttling are off (their own tests turn them on)."""
    return Settings(database_url=database_url, jwt_secret=TEST_SECRET,
                    data_dir=Path(tempfile.gettempdir()) / "salescore-test-data",
                    rate_limit_per_minute=0, rate_limit_unauthenticated_per_minute=0,
                    login_lock_failures=0)


@pytest.fixture(scope="session")
def app(settings: Settings, database_url: str) -> FastAPI:
    return create_app(settings, database_url)


@pytest.fixture(scope="session")
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async for http in asgi_client(app):
        yield http


@pytest.fixture
async def tenant(app: FastAPI) -> Tenant:
    """A fresh organization with its admin, for one test."""
    return await new_tenant(app, "Acme")


@pytest.fixture
async def other_tenant(app: FastAPI) -> Tenant:
    """A second organization, to prove nothing leaks between tenants."""
    return await new_tenant(app, "Rival")
