"""imports: bulk imports through the API and the in-process worker (issue 16's targets).

- Customers: `ROWS` customers with external ids, imported from CSV (rows/s, reported).
- Opportunities: `ROWS` rows (`per_row`, each naming its customer by
  `customer_external_id`, with its own `external_id`, every side effect: the first seller,
  history, the reminder task, events, notifications), from the upload's first byte to
  the import's end. Targets: >= 5,000 rows/s, and >= 0.25x the raw baseline below; the
  server's resident memory (it runs the worker) sampled every 0.2 s stays < 300 MB.
- `validate_only` of the same file: rows/s (target >= 20,000).
- Baseline, in the same run, on the same database: every row the opportunity import wrote
  (opportunities, sellers, history, activities, events, notifications) read out with
  `COPY ... TO`, deleted, and written back with raw asyncpg `copy_records_to_table` into
  the same tables, their indexes and constraints (foreign keys included), in one
  transaction; the rate is opportunities a second. The tables' own history triggers are
  off meanwhile (their rows are among those copied back) and the identity columns take
  the ids given: the bench database is thrown away afterwards.

`SALESCORE_BENCH_IMPORT_ROWS` sets ROWS (default 50,000; the issue's figure is for
1,000,000, which at the rates measured so far takes more than an hour)."""

import asyncio
import contextlib
import os
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.opportunities import api_server, database
from bench.report import RESULTS, Figure, Options, Report, figure
from bench.server import Server

NAME = "imports"
DATA_DIR = RESULTS / "imports-db"
DATABASE = "salescore_bench_imports"  # beside SALESCORE_DATABASE_URL's, when that is set
ROWS = int(os.environ.get("SALESCORE_BENCH_IMPORT_ROWS", "50000"))
STAGES = [{"name": "Lead", "probability": "10.00"},
          {"name": "Won", "probability": "100.00", "kind": "won"},
          {"name": "Lost", "probability": "0.00", "kind": "lost"}]
# What an opportunity import writes, parents first (the order they are copied back in).
TABLES = ("opportunities", "opportunity_sellers", "opportunity_history",
          "opportunity_seller_history", "activities", "events", "notifications")


def _file(rows: int, header: str, line: Any) -> Path:
    path = Path(tempfile.mkstemp(prefix="salescore-bench-", suffix=".csv")[1])
    with path.open("w") as out:
        out.write(header + "\n")
        for i in range(rows):
            out.write(line(i) + "\n")
    return path


def _chunks(path: Path) -> Any:
    with path.open("rb") as source:
        while piece := source.read(1 << 20):
            yield piece


class _Memory:
    """The server's peak resident memory, sampled every 0.2 s while running."""

    def __init__(self, server: Server) -> None:
        self.server, self.peak, self._stop = server, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            with contextlib.suppress(Exception):
                self.peak = max(self.peak, self.server.rss_mb())

    def __enter__(self) -> "_Memory":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _import(client: httpx.Client, path: Path, **params: Any) -> tuple[dict[str, Any], float]:
    began = time.perf_counter()
    response = client.post("/v1/imports", params=params, content=_chunks(path),
                           headers={"Content-Type": "text/csv"})
    response.raise_for_status()
    job: dict[str, Any] = response.json()
    while job["status"] in ("queued", "running"):
        time.sleep(0.2)
        job = client.get(f"/v1/imports/{job['id']}").raise_for_status().json()
    return job, time.perf_counter() - began


async def _baseline(dsn: str, organization_id: int) -> float:
    """Seconds to write back, with raw COPY, every row the import wrote (see the module)."""
    connection = await asyncpg.connect(dsn)
    try:
        dumped: dict[str, tuple[list[str], list[Any]]] = {}
        for table in TABLES:
            columns = [r["column_name"] for r in await connection.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = $1 "
                "AND is_generated = 'NEVER' ORDER BY ordinal_position", table)]
            rows = await connection.fetch(
                f"SELECT {', '.join(columns)} FROM {table} WHERE organization_id = $1",
                organization_id)
            dumped[table] = (columns, [tuple(r) for r in rows])
        identities: dict[str, str | None] = {}
        for table in reversed(TABLES):
            await connection.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            await connection.execute(f"DELETE FROM {table} WHERE organization_id = $1",
                                     organization_id)
            identity = await connection.fetchval(
                "SELECT column_name FROM information_schema.columns WHERE table_name = $1 "
                "AND is_identity = 'YES'", table)
            identities[table] = identity
            if identity:
                await connection.execute(
                    f"ALTER TABLE {table} ALTER COLUMN {identity} SET GENERATED BY DEFAULT")
        try:
            began = time.perf_counter()
            async with connection.transaction():
                for table in TABLES:
                    columns, records = dumped[table]
                    await connection.copy_records_to_table(table, records=records,
                                                           columns=columns)
            return time.perf_counter() - began
        finally:  # the tables as they were, for a database that is kept
            for table, identity in identities.items():
                await connection.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
                if identity:
                    await connection.execute(
                        f"ALTER TABLE {table} ALTER COLUMN {identity} SET GENERATED ALWAYS")
    finally:
        await connection.close()


def run(options: Options) -> Report:
    os.environ.setdefault("SALESCORE_LOG_LEVEL", "warning")
    data: dict[str, Any] = {"rows": ROWS}
    customers = _file(ROWS, "name,external_id", lambda i: f"Customer {i},c{i}")
    deals = _file(ROWS, "name,customer_external_id,external_id,amount",
                  lambda i: f"Deal {i},c{i},o{i},{1000 + i}.50")
    try:
        with database(DATA_DIR, DATABASE) as dsn, api_server(DATA_DIR, DATABASE) as (
                server, _):
            org = server.create_organization(
                "Imports", admin_email=f"bench-{secrets.token_hex(4)}@imports.test",
                admin_password="benchpassword")
            with httpx.Client(base_url=server.base_url, timeout=120.0, trust_env=False,
                              headers={"Authorization": f"Bearer {org.api_key}"}) as client:
                client.post("/v1/sales-processes", json={
                    "name": "Bench", "stages": STAGES, "default_for": {"all": True}}
                            ).raise_for_status()
                job, seconds = _import(client, customers, resource="customers")
                data["customers"] = {"seconds": seconds, "created": job["rows_created"]}
                with _Memory(server) as memory:
                    checked, check_seconds = _import(
                        client, deals, resource="opportunities", validate_only="true",
                        default_owner_id=org.user_id)
                    job, seconds = _import(client, deals, resource="opportunities",
                                           default_owner_id=org.user_id)
                data["validate_only"] = {"seconds": check_seconds,
                                         "rows_created": checked["rows_created"]}
                data["opportunities"] = {"seconds": seconds, "created": job["rows_created"],
                                         "failed": job["rows_failed"],
                                         "peak_rss_mb": memory.peak}
            data["baseline_seconds"] = asyncio.run(_baseline(dsn, org.organization_id))
    finally:
        customers.unlink()
        deals.unlink()
        shutil.rmtree(DATA_DIR, ignore_errors=True)
    rate = ROWS / data["opportunities"]["seconds"]
    raw = ROWS / data["baseline_seconds"]
    found: list[Figure] = [
        figure("import: customers rows/s", ROWS / data["customers"]["seconds"], "/s"),
        figure("import: opportunities rows/s", rate, "/s", op=">=", limit=5000),
        figure("import: opportunities vs raw COPY", rate, "/s", baseline=raw, on="ratio",
               op=">=", limit=0.25),
        figure("import: worker peak RSS", data["opportunities"]["peak_rss_mb"], "MB",
               op="<", limit=300),
        figure("import: validate_only rows/s", ROWS / data["validate_only"]["seconds"], "/s",
               op=">=", limit=20000),
    ]
    data["figures"] = [asdict(f) for f in found]
    text = "\n".join(f"{f.name:<40}{f.value:>12.4g} {f.unit:<4} "
                     f"{'' if f.ratio is None else f'ratio {f.ratio:.3f}':<14}"
                     f"{f.target or '':<16} {'' if f.met is None else 'met' if f.met else 'MISSED'}"
                     for f in found)
    ok = data["opportunities"]["created"] == ROWS and data["opportunities"]["failed"] == 0
    return Report(name=NAME, text=text + f"\n{ROWS} rows; every row created: {ok}",
                  data=data, failed=not ok)
