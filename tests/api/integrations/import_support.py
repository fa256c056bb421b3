"""Uploading an import through the API and running it as a worker would."""

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from salescore.api.v1.integrations.import_rows import ImportRowRules
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.integrations.imports import claim_import, run_import
from tests.factories import Tenant

MEDIA = {"csv": "text/csv", "ndjson": "application/x-ndjson"}


async def upload(client: AsyncClient, tenant: Tenant, body: bytes | str, *,
                 fmt: str = "csv", headers: dict[str, str] | None = None,
                 **params: Any) -> dict[str, Any]:
    """Queue an import (202), returning the import."""
    data = body.encode() if isinstance(body, str) else body
    response = await client.post(
        "/v1/imports", content=data, params={k: str(v).lower() if isinstance(v, bool) else v
                                            for k, v in params.items()},
        headers={"Content-Type": MEDIA[fmt], **(headers or tenant.admin)})
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/v1/imports/{response.json()['id']}"
    job: dict[str, Any] = response.json()
    return job


async def run_queued(app: FastAPI) -> int:
    """Run every queued import to its end, as the worker's loop does; how many."""
    sessions = app.state.salescore.sessions
    ran = 0
    while (job := await claim_import(UnitOfWork(sessions))) is not None:
        await run_import(sessions, ImportRowRules(), job)
        ran += 1
    return ran


async def imported(client: AsyncClient, app: FastAPI, tenant: Tenant, body: bytes | str,
                   **params: Any) -> dict[str, Any]:
    """Upload, run, and read the import as it ended."""
    job = await upload(client, tenant, body, **params)
    await run_queued(app)
    response = await client.get(f"/v1/imports/{job['id']}", headers=tenant.admin)
    assert response.status_code == 200, response.text
    ended: dict[str, Any] = response.json()
    return ended


async def errors_of(client: AsyncClient, tenant: Tenant, import_id: int) -> list[dict[str, Any]]:
    """Every error of the import, page by page."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"/v1/imports/{import_id}/errors", params=params,
                                    headers=tenant.admin)
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            return found
