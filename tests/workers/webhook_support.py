"""Fixtures and factories of the webhook delivery tests: settings that allow private
networks (the receiver is on 127.0.0.1) with a short retry schedule, an app on them,
endpoints inserted by SQL with an encrypted secret, events emitted in bulk, a worker
running in this process."""

import asyncio
import base64
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from salescore.api.app import create_app
from salescore.domain.events import DomainEvent
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.integrations.guard import Address, Unresolved
from salescore.services.integrations.secrets import encrypt_secret
from salescore.settings import Settings
from salescore.workers.context import Loop, WorkerContext
from salescore.workers.delivery import delivery_loop
from salescore.workers.runner import run_loops
from tests.conftest import TEST_SECRET
from tests.factories import Tenant, new_tenant
from tests.opportunity_factories import sql
from tests.workers.receiver import Receiver, receiving

SECRETS_KEY = base64.b64encode(b"k" * 32).decode()


def hook_settings_for(database_url: str, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url, "jwt_secret": TEST_SECRET, "secrets_key": SECRETS_KEY,
        "data_dir": Path(tempfile.gettempdir()) / "salescore-test-data",
        "rate_limit_per_minute": 0, "rate_limit_unauthenticated_per_minute": 0,
        "login_lock_failures": 0, "webhook_allow_private_networks": True,
        "webhook_retry_schedule": "0,1", "worker_poll_seconds": 0.2,
        "shutdown_grace_seconds": 2, **changes}
    return Settings(**values)


@pytest.fixture(scope="module")
def hook_settings(database_url: str) -> Settings:
    return hook_settings_for(database_url)


@pytest.fixture(scope="module")
async def hook_app(hook_settings: Settings, database_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(hook_settings, database_url)
    yield app
    await app.state.salescore.engine.dispose()


@pytest.fixture
async def hook_tenant(hook_app: FastAPI) -> Tenant:
    return await new_tenant(hook_app, "Hooked")


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def unique_path() -> str:
    return f"/hook/{secrets.token_hex(6)}"


async def add_endpoint(app: FastAPI, tenant: Tenant, url: str, *, secret: str | None = None,
                       event_types: Sequence[str] = (), previous: str | None = None,
                       previous_expires_at: datetime | None = None) -> tuple[int, str]:
    """An active endpoint of `tenant` at `url`; its id and its secret."""
    key = app.state.salescore.settings.secrets_encryption_key()
    secret = secret or new_secret()
    endpoint_id: int = await sql(
        app, "INSERT INTO webhook_endpoints (organization_id, url, event_types, "
             "secret_encrypted, previous_secret_encrypted, previous_secret_expires_at) "
             "VALUES (:org, :url, :types, :secret, :previous, :expires) RETURNING id",
        org=tenant.organization_id, url=url, types=list(event_types),
        secret=encrypt_secret(secret, key),
        previous=None if previous is None else encrypt_secret(previous, key),
        expires=previous_expires_at)
    return endpoint_id, secret


async def emit(app: FastAPI, tenant: Tenant, count: int = 1,
               event_type: str = "customer.created") -> list[int]:
    """`count` events of `tenant`, committed together (each queued for its endpoints);
    their ids."""
    before = await sql(app, "SELECT coalesce(max(id), 0) FROM events "
                            "WHERE organization_id = :org", org=tenant.organization_id)
    uow = UnitOfWork(app.state.salescore.sessions)
    async with uow:
        uow.emit(tenant.organization_id, {"type": "api_key", "id": 1},
                 *(DomainEvent(event_type, "customer", 1000 + n, {"name": f"Customer {n}"})
                   for n in range(count)))
        await uow.commit()
    return await ids(app, "SELECT id FROM events WHERE organization_id = :org AND id > :after "
                          "ORDER BY id", org=tenant.organization_id, after=before)


async def ids(app: FastAPI, statement: str, **params: Any) -> list[int]:
    async with app.state.salescore.engine.connect() as connection:
        return [row[0] for row in (await connection.execute(text(statement), params)).all()]


async def rows(app: FastAPI, statement: str, **params: Any) -> list[dict[str, Any]]:
    """The rows of `statement`, run in a transaction of its own (committed)."""
    async with app.state.salescore.engine.begin() as connection:
        result = await connection.execute(text(statement), params)
        return [dict(row._mapping) for row in result.all()]


async def deliveries_of(app: FastAPI, endpoint_id: int) -> list[dict[str, Any]]:
    return await rows(app, "SELECT * FROM webhook_deliveries WHERE endpoint_id = :endpoint "
                           "ORDER BY id", endpoint=endpoint_id)


async def settled(app: FastAPI, endpoint_id: int, count: int, within: float = 30,
                  ) -> list[dict[str, Any]]:
    """The endpoint's deliveries once `count` of them are no longer pending."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await deliveries_of(app, endpoint_id)
        done = [d for d in found if d["status"] != "pending"]
        if len(done) >= count:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{len(done)} of {count} deliveries ended: {found}")
        await asyncio.sleep(0.05)


async def names_fail(host: str, port: int) -> list[Address]:
    """A resolver for the tests: 127.0.0.1 literals never reach it; other test data's
    names (hooks.example.com of other modules' endpoints) fail at once."""
    if host == "localhost":
        return [ip_address("127.0.0.1")]
    raise Unresolved(f"could not resolve {host}: not in the tests' resolver")


def context_of(app: FastAPI, settings: Settings | None = None) -> WorkerContext:
    state = app.state.salescore
    return WorkerContext(settings=settings or state.settings, engine=state.engine,
                         sessions=state.sessions)


@asynccontextmanager
async def worker(app: FastAPI, *loops: Loop, settings: Settings | None = None,
                 ) -> AsyncIterator[asyncio.Event]:
    """A worker running `loops` (the delivery loop with the tests' resolver by default)
    in this process for the block; stopped as SIGTERM stops one. Yields its `stopping`."""
    stopping = asyncio.Event()
    task = asyncio.create_task(run_loops(context_of(app, settings),
                                         loops or [delivery_loop(resolver=names_fail)],
                                         stopping))
    try:
        yield stopping
    finally:
        stopping.set()
        await task
