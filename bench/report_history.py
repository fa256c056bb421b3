"""report_history: the pipeline as of a past day and the pipeline movement between two
days, over the history of 1,000,000 opportunities: target p50 < 3 s for each.

bench/seed.py writes the opportunities with COPY in one transaction, so the history
trigger leaves each one a single row stamped with the seeding time. This module gives them
a past instead, once per seed (kept in `bench_report_history` while the seed and
HISTORY_VERSION match): each opportunity walks the open stages of its process from the
first to the one it was last open in, its rows spread evenly from its creation to its last
change, and a closed one ends with its closing state at `closed_at`; three in ten begin at
80 % of their amount (in hundreds), one in five with an expected close date 30 days
earlier. The last row is always the opportunity as it is now, so the pipeline as of today
is the live one. Creation dates span the 760 days before the seed's day, so the last year
holds about half of the events: some 2.9 million rows in all, written by one INSERT ...
SELECT in the database.

Measured through a real server (one uvicorn worker) on one connection after a warm-up, for
`rounds` rounds: GET /v1/reports/pipeline?as_of= at five days over the year before the
seed's day (with `group_by=owner,stage` and without), and GET /v1/reports/pipeline-movement
over that year, its last quarter and its last month. Checked on the way: as of the seed's
day equals the live pipeline, and every waterfall balances to the cent."""

import asyncio
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from bench import seed
from bench.load import percentile
from bench.opportunities import data_dir_for, seeded_database, where_is
from bench.report import Options, Report

NAME = "report_history"
HISTORY_VERSION = 1
P50_TARGET_S = 3.0
TIMEOUT_S = 120.0
MARKER_DDL = """CREATE TABLE IF NOT EXISTS bench_report_history (
    id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1), version integer, seed_digest text)"""
SEED_DIGEST = "SELECT md5(info::text) FROM bench_seed"


def _moment(i: str) -> str:
    """When row `i` of an opportunity's path began: evenly from creation to the last
    change; a closed one's last row at closing."""
    return (f"CASE WHEN {i} = n AND status <> 'open' THEN closed_at"
            f" ELSE created_at + (updated_at - created_at) * (({i} - 1)::float8 / n) END")


HISTORY = f"""
WITH p AS (
    SELECT o.*, CASE WHEN o.status = 'open' THEN cur.position
                     ELSE coalesce(lo.position, 1) + 1 END AS n
    FROM opportunities o
    JOIN stages cur ON cur.organization_id = o.organization_id AND cur.id = o.stage_id
    LEFT JOIN stages lo ON lo.organization_id = o.organization_id
                       AND lo.id = o.last_open_stage_id
    WHERE o.organization_id = $1
), rows AS (
    SELECT p.*, g.i, g.i = p.n AS last, s.id AS path_stage, s.probability AS path_probability
    FROM p CROSS JOIN LATERAL generate_series(1, p.n) AS g (i)
    LEFT JOIN stages s ON s.organization_id = p.organization_id
                      AND s.sales_process_id = p.sales_process_id AND s.position = g.i
), priced AS (
    SELECT rows.*,
           CASE WHEN last OR id % 10 >= 3 THEN amount ELSE round(amount * 0.8, -2) END AS amt,
           CASE WHEN last THEN probability ELSE path_probability END AS prob
    FROM rows
)
INSERT INTO opportunity_history (organization_id, opportunity_id, version, valid_from,
    valid_to, status, sales_process_id, stage_id, owner_id, customer_id, campaign_id,
    source_id, type_id, amount, currency, probability, weighted_amount, expected_close_date,
    closed_at, loss_reason_id, created_at)
SELECT organization_id, id, i, {_moment("i")},
       CASE WHEN last THEN NULL ELSE {_moment("i + 1")} END,
       CASE WHEN last THEN status ELSE 'open' END, sales_process_id,
       CASE WHEN last THEN stage_id ELSE path_stage END, owner_id, customer_id, campaign_id,
       source_id, type_id, amt, currency, prob, half_even_cents(amt * prob / 100),
       CASE WHEN last OR id % 5 <> 0 THEN expected_close_date
            ELSE expected_close_date - 30 END,
       CASE WHEN last THEN closed_at END, CASE WHEN last THEN loss_reason_id END, created_at
FROM priced
"""


async def ensure_history(dsn: str, organization_id: int) -> tuple[bool, float, int]:
    """Write the seed's past unless it is there: (written now, seconds, history rows)."""
    connection = await asyncpg.connect(dsn)
    try:
        began = time.perf_counter()
        await connection.execute(MARKER_DDL)
        digest = await connection.fetchval(SEED_DIGEST)
        kept = await connection.fetchrow("SELECT version, seed_digest FROM bench_report_history")
        written = kept is None or (kept["version"], kept["seed_digest"]) != (
            HISTORY_VERSION, digest)
        if written:
            await connection.execute("SET synchronous_commit = off;"
                                     " SET maintenance_work_mem = '256MB'")
            async with connection.transaction():
                await connection.execute(
                    "DELETE FROM opportunity_history WHERE organization_id = $1",
                    organization_id)
                await connection.execute(HISTORY, organization_id)
                await connection.execute(
                    "INSERT INTO bench_report_history (version, seed_digest) VALUES ($1, $2)"
                    " ON CONFLICT (id) DO UPDATE SET version = excluded.version,"
                    " seed_digest = excluded.seed_digest", HISTORY_VERSION, digest)
            await connection.execute("VACUUM ANALYZE opportunity_history")
        rows: int = await connection.fetchval(
            "SELECT count(*) FROM opportunity_history WHERE organization_id = $1",
            organization_id)
        return written, time.perf_counter() - began, rows
    finally:
        await connection.close()


def requests(day: date) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """The calls of one round, by what they measure."""
    def ago(days: int) -> str:
        return (day - timedelta(days=days)).isoformat()

    as_of = [("/v1/reports/pipeline", {"as_of": ago(d), **g})
             for d in (364, 270, 180, 90, 1) for g in ({"group_by": "owner,stage"}, {})]
    movement = [("/v1/reports/pipeline-movement", {"from": ago(d), "to": day.isoformat()})
                for d in (365, 91, 30)]
    return {"as_of": as_of, "movement": movement}


def _label(params: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items())


def balanced(body: dict[str, Any]) -> bool:
    total = Decimal(body["opening"]["amount"]) + sum(
        (Decimal(line["amount"]) * (1 if line["direction"] == "in" else -1)
         for line in body["lines"]), Decimal(0))
    return total == Decimal(body["closing"]["amount"])


def organization_today() -> date:
    """Today in the seeded organization's time zone (Oslo, the default), as the server
    reckons `as_of`; the machine's own date is a day behind after 23:00 UTC."""
    return datetime.now(ZoneInfo("Europe/Oslo")).date()


def run(options: Options, *, spec: seed.Spec | None = None) -> Report:
    spec = spec or seed.Spec()
    day = min(seed.TODAY, organization_today())
    timings: dict[str, list[float]] = {"as_of": [], "movement": []}
    calls_taken: dict[str, list[float]] = {}
    with seeded_database(data_dir_for(spec), spec, reseed=False) as (server, seeded, dsn):
        written, seconds, rows = asyncio.run(ensure_history(dsn, seeded.organization_id))
        token = server.token(email=seeded.email, password=seeded.password,
                             organization_id=seeded.organization_id)
        with httpx.Client(base_url=server.base_url, timeout=TIMEOUT_S, trust_env=False,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            live = http.get("/v1/reports/pipeline").json()
            past = http.get("/v1/reports/pipeline",
                            params={"as_of": organization_today().isoformat()}).json()
            checks: dict[str, Any] = {"as_of_today_is_live": live == past, "balanced": True}
            for calls in requests(day).values():  # warm-up
                for path, params in calls[:1]:
                    http.get(path, params=params).raise_for_status()
            for _ in range(options.rounds):
                for kind, calls in requests(day).items():
                    for path, params in calls:
                        began = time.perf_counter()
                        response = http.get(path, params=params)
                        took = time.perf_counter() - began
                        timings[kind].append(took)
                        calls_taken.setdefault(_label(params), []).append(took)
                        response.raise_for_status()
                        if kind == "movement":
                            checks["balanced"] &= balanced(response.json())
    data: dict[str, Any] = {
        "database_at": where_is(dsn), "rounds": options.rounds, "day": day.isoformat(),
        "history": {"rows": rows, "written_now": written, "seconds": seconds},
        "endpoints": {kind: {"requests": len(found),
                             "p50_s": percentile(sorted(found), 50),
                             "p99_s": percentile(sorted(found), 99),
                             "max_s": max(found)} for kind, found in timings.items()},
        "checks": checks,
        "calls": {label: {"p50_s": percentile(sorted(found), 50), "max_s": max(found)}
                  for label, found in calls_taken.items()},
    }
    data["targets"] = {kind: {"p50_s": P50_TARGET_S,
                              "met": data["endpoints"][kind]["p50_s"] < P50_TARGET_S}
                       for kind in timings}
    failed = not (checks["as_of_today_is_live"] and checks["balanced"])
    return Report(name=NAME, text=render(data), data=data, failed=failed)


def render(data: dict[str, Any]) -> str:
    history = data["history"]
    lines = [f"database  {data['database_at']}; seed day {data['day']}; "
             f"{data['rounds']} rounds, one connection",
             f"history   {history['rows']:,} rows, "
             + (f"written now in {history['seconds']:.0f} s" if history["written_now"]
                else "kept from an earlier run"), "",
             f"{'report':<12}{'requests':>10}{'p50 s':>9}{'p99 s':>9}{'max s':>9}  target"]
    for kind, found in data["endpoints"].items():
        met = data["targets"][kind]["met"]
        lines.append(f"{kind:<12}{found['requests']:>10}{found['p50_s']:>9.2f}"
                     f"{found['p99_s']:>9.2f}{found['max_s']:>9.2f}  p50 < {P50_TARGET_S:g} s "
                     f"{'ok' if met else 'MISSED'}")
    lines += ["", "by call (p50, max s):"] + [
        f"  {label:<48}{found['p50_s']:>7.2f}{found['max_s']:>7.2f}"
        for label, found in data["calls"].items()]
    checks = data["checks"]
    lines += ["", f"as of today = live pipeline: {checks['as_of_today_is_live']}; "
                  f"every waterfall balances: {checks['balanced']}"]
    return "\n".join(lines)
