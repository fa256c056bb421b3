"""reports: the pipeline report on 1,000,000 opportunities, against its own SQL.

The data set is bench/seed.py's (kept between runs, see bench/opportunities.py); a real
`salescore serve` (one uvicorn worker) runs on it. One connection at a time, in turn, the
same figures are taken through the API, by the very statement the report's repository
runs (repositories/reports/pipeline.py `pipeline_statement`, with the same parameters,
through asyncpg) and by a bare SQL aggregate (count, amount and weighted amount of the
open opportunities per group: no conversion, no names, no totals), so that all three see
the same machine:

(a) GET /v1/reports/pipeline?group_by=owner,stage
(b) GET /v1/reports/pipeline?group_by=month
(c) GET /v1/reports/pipeline?group_by=department
    targets for each: p50 below 150 ms, and the API's p50 within 1.15x of its own
    statement's; the bare aggregate's p50 is shown beside them, with no target.

Before timing, the API's figures are checked against the bare aggregate's: the same number
of groups, and the total count and amount equal to the sums over its groups (tried up to
three times: another benchmark may be writing to the same database). The API's time is
until its body has arrived, not parsed."""

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import asyncpg
import httpx

from bench import seed
from bench.load import percentile
from bench.opportunities import check, data_dir_for, seeded_database, where_is
from bench.report import Options, Report
from salescore.domain.reports.bounds import groups_to_ask
from salescore.domain.reports.pipeline import GroupKey
from salescore.repositories.reports.pipeline import pipeline_statement

NAME = "reports"
P50_TARGET_MS, RATIO_TARGET = 150.0, 1.15
SAMPLES_PER_ROUND = 10
CHECKS = 3
_OPEN = "FROM opportunities o WHERE o.organization_id = $1 AND o.status = 'open'"
_FIGURES = "count(*), sum(o.amount), sum(o.amount * o.probability) / 100"
_OWNERS = ("JOIN users u ON u.organization_id = o.organization_id AND u.id = o.owner_id"
           " WHERE o.organization_id = $1 AND o.status = 'open'")
CASES = {
    "owner,stage": f"SELECT owner_id, stage_id, {_FIGURES} {_OPEN} GROUP BY owner_id, stage_id",
    "month": f"SELECT date_trunc('month', expected_close_date), {_FIGURES} {_OPEN} GROUP BY 1",
    "department": f"SELECT u.department_id, {_FIGURES} FROM opportunities o {_OWNERS}"
                  " GROUP BY 1",
}
SIDES = ("api", "sql", "aggregate")


def _cents(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


async def _measure(base_url: str, api_key: str, dsn: str, organization_id: int,
                   rounds: int) -> dict[str, Any]:
    params = {"fx_date": seed.TODAY.isoformat()}
    headers = {"Authorization": f"Bearer {api_key}"}
    found: dict[str, Any] = {}
    connection = await asyncpg.connect(dsn)
    try:
        base_currency = await connection.fetchval(
            "SELECT base_currency FROM organizations WHERE id = $1", organization_id)
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60.0,
                                     trust_env=False) as client:
            for group_by, aggregate_sql in CASES.items():
                own = pipeline_statement([GroupKey(k) for k in group_by.split(",")])
                own_args = own.args({"organization_id": organization_id,
                                     "base_currency": base_currency, "fx_date": seed.TODAY,
                                     "group_limit": groups_to_ask()})

                async def api(group_by: str = group_by) -> httpx.Response:
                    response = await client.get("/v1/reports/pipeline",
                                                params={**params, "group_by": group_by})
                    return response.raise_for_status()  # the body read, not yet parsed

                async def sql(sql: str = own.sql, args: list[Any] = own_args) -> list[Any]:
                    rows: list[Any] = await connection.fetch(sql, *args)
                    return rows

                async def aggregate(statement: str = aggregate_sql) -> list[Any]:
                    rows: list[Any] = await connection.fetch(statement, organization_id)
                    return rows

                for _ in range(CHECKS):  # a warm-up, and the check (others may write)
                    body, rows = (await api()).json(), await aggregate()
                    await sql()
                    consistent = (
                        len(body["groups"]) == len(rows)
                        and body["total"]["count"] == sum(r[-3] for r in rows)
                        and body["total"]["amount"] == _cents(sum(r[-2] for r in rows)))
                    if consistent:
                        break
                calls: dict[str, Callable[[], Awaitable[Any]]] = {
                    "api": api, "sql": sql, "aggregate": aggregate}
                timings: dict[str, list[float]] = {side: [] for side in SIDES}
                round_p50: dict[str, list[float]] = {side: [] for side in SIDES}
                for _ in range(rounds):
                    this: dict[str, list[float]] = {side: [] for side in SIDES}
                    for _ in range(SAMPLES_PER_ROUND):
                        for side in SIDES:
                            began = time.perf_counter()
                            await calls[side]()
                            this[side].append((time.perf_counter() - began) * 1e3)
                    for side, values in this.items():
                        timings[side] += values
                        round_p50[side].append(statistics.median(values))
                p50 = {side: statistics.median(timings[side]) for side in SIDES}
                found[group_by] = {
                    "groups": len(rows), "open_opportunities": body["total"]["count"],
                    "consistent_with_sql": consistent,
                    **{f"{side}_p50_ms": p50[side] for side in SIDES},
                    **{f"{side}_p99_ms": percentile(sorted(timings[side]), 99)
                       for side in SIDES},
                    "round_p50_ms": round_p50, "samples": len(timings["api"]),
                    "checks": {"p50_ms": check(p50["api"], "<", P50_TARGET_MS),
                               "ratio": check(p50["api"] / p50["sql"], "<", RATIO_TARGET)},
                }
    finally:
        await connection.close()
    return found


def run(options: Options, *, reseed: bool = False, spec: seed.Spec | None = None) -> Report:
    spec = spec or seed.Spec()
    with seeded_database(data_dir_for(spec), spec, reseed=reseed) as (server, seeded, dsn):
        cases = asyncio.run(_measure(server.base_url, seeded.api_key, dsn,
                                     seeded.organization_id, options.rounds))
    stopped = server.stopped
    assert stopped is not None
    data: dict[str, Any] = {
        "rounds": options.rounds, "samples_per_round": SAMPLES_PER_ROUND,
        "database": "embedded" if server.embedded_database else "external",
        "database_at": where_is(dsn), "seed": {**asdict(seeded), "spec": asdict(spec)},
        "cases": cases,
        "server_stop": {"exit_code": stopped.exit_code, "killed": stopped.killed,
                        "log_problems": list(stopped.log_problems)},
    }
    failed = stopped.exit_code != 0 or not all(c["consistent_with_sql"]
                                               for c in cases.values())
    return Report(name=NAME, text=render(data), data=data, failed=failed)


def render(data: dict[str, Any]) -> str:
    spec = data["seed"]["spec"]
    lines = [
        f"database  {data['database']} ({data['database_at']}); {spec['opportunities']:,} "
        f"opportunities; one connection, API and SQL alternately; {data['rounds']} rounds "
        f"of {data['samples_per_round']}",
        "",
        f"{'group_by':<14}{'groups':>8}{'open':>10}{'API p50':>10}{'API p99':>10}"
        f"{'SQL p50':>10}{'SQL p99':>10}{'ratio':>8}{'bare p50':>10}  checks"
        "   (SQL: the report's own statement; bare: the plain aggregate)",
    ]
    for group_by, case in data["cases"].items():
        checks = case["checks"]
        verdict = ", ".join(f"{name} {'ok' if found['met'] else 'MISSED'} "
                            f"({found['target']})" for name, found in checks.items())
        lines.append(
            f"{group_by:<14}{case['groups']:>8}{case['open_opportunities']:>10,}"
            f"{case['api_p50_ms']:>10.1f}{case['api_p99_ms']:>10.1f}"
            f"{case['sql_p50_ms']:>10.1f}{case['sql_p99_ms']:>10.1f}"
            f"{checks['ratio']['value']:>8.2f}{case['aggregate_p50_ms']:>10.1f}  {verdict}"
            + ("" if case["consistent_with_sql"] else "  FIGURES DIFFER FROM SQL"))
    stop = data["server_stop"]
    lines += ["", f"server    exit code {stop['exit_code']}; "
              f"{len(stop['log_problems'])} warning/error lines in its log"]
    lines += [f"          {line}" for line in stop["log_problems"][:10]]
    return "\n".join(lines)
