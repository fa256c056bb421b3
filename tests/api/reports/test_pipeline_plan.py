"""The pipeline report reads the open opportunities from their partial covering index
(migration 0007) alone: its statement, as the API runs it, can be an index-only scan even
in a prepared statement's generic plan, which knows none of the parameters. Checked on
the plan, not on timings: with every other way to read the table switched off, the plan
must still read `opportunities` by an index-only scan of that index."""

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from salescore.repositories.prepared import Prepared, fetch
from salescore.repositories.reports import pipeline as repository
from tests.factories import Tenant
from tests.pipeline_report_data import Sales, make_sales, read_report

INDEX = "ix_opportunities_open_pipeline"
# The only way left to read a table: an index-only scan (the others cost as if forbidden).
ONLY_INDEX_ONLY = ("SET enable_seqscan = off; SET enable_indexscan = off; "
                   "SET enable_bitmapscan = off; SET plan_cache_mode = force_generic_plan")


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, date | str):
        return "'" + str(value).replace("'", "''") + "'"
    raise TypeError(f"no literal for {value!r}")


def _scans(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "Relation Name" in plan:
        yield plan
    for child in plan.get("Plans", []):
        yield from _scans(child)


async def _report_statement(client: AsyncClient, tenant: Tenant, group_by: str,
                            monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[Any]]:
    """The SQL and parameters of the report's statement, as the API sent them."""
    sent: list[tuple[str, list[Any]]] = []

    async def seen(session: Any, prepared: Prepared, **values: Any) -> Any:
        sent.append((prepared.sql, prepared.args(values)))
        return await fetch(session, prepared, **values)

    with monkeypatch.context() as patch:
        patch.setattr(repository, "fetch", seen)
        await read_report(client, tenant, "pipeline", group_by=group_by)
    [found] = sent
    return found


async def _generic_plan(database_url: str, sql: str, parameters: list[Any]) -> Any:
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        await connection.execute(ONLY_INDEX_ONLY)
        await connection.execute(f"PREPARE report AS {sql}")
        arguments = ", ".join(_literal(p) for p in parameters)
        return json.loads(await connection.fetchval(
            f"EXPLAIN (FORMAT JSON) EXECUTE report({arguments})"))[0]["Plan"]
    finally:
        await connection.close()


@pytest.fixture
async def sales(app: FastAPI, client: AsyncClient, tenant: Tenant) -> Sales:
    return await make_sales(app, client, tenant)


@pytest.mark.parametrize("group_by", ["owner,stage", "month", "department", "quarter",
                                      "sales_region", "sales_group", "stage"])
async def test_the_report_is_an_index_only_scan_of_the_open_ones(
        client: AsyncClient, tenant: Tenant, sales: Sales, database_url: str, group_by: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    sql, parameters = await _report_statement(client, tenant, group_by, monkeypatch)
    plan = await _generic_plan(database_url, sql, parameters)
    read = [(s["Node Type"], s.get("Index Name")) for s in _scans(plan)
            if s["Relation Name"] == "opportunities"]
    assert read == [("Index Only Scan", INDEX)], json.dumps(plan, indent=1)


async def test_the_index_holds_the_open_ones_and_the_table_is_vacuumed_sooner(
        database_url: str) -> None:
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        definition = await connection.fetchval(
            "SELECT indexdef FROM pg_indexes WHERE indexname = $1", INDEX)
        options = await connection.fetchval(
            "SELECT reloptions FROM pg_class WHERE oid = 'opportunities'::regclass")
    finally:
        await connection.close()
    assert definition is not None and definition.endswith("WHERE (status = 'open'::text)")
    assert set(options) >= {"autovacuum_vacuum_scale_factor=0.01",
                            "autovacuum_vacuum_insert_scale_factor=0.01"}
