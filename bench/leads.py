"""leads: POST /v1/leads on a fresh database, 16 clients; target >= 300 new leads a second.

A new database each run (bench/results/leads-db/ for the embedded server, removed first;
with SALESCORE_DATABASE_URL set, the database `salescore_bench_leads` beside it), seeded
small by bench/seed.py (SPEC, as bench/writes.py's), a source and a campaign added, and a
real `salescore serve` (one uvicorn worker) on it. PRIMED leads are sent first, so that
there is something to match. Then, as the seed's admin, with 16 connections and the load
generator of random_load.py (wrk when installed, else httpx):

- `new`: every lead new (its customer, contact and opportunity created: 201); each has
  external ids and an organization number no other has, the source and the campaign by
  name, an owner among the seed's users and a follow-up date (two tasks);
- `matched`: leads whose customer and opportunity are among the primed ones (nothing
  written: 200), the source and campaign by name too;
- `create`: POST /v1/opportunities with the same opportunity fields (by id), beside them
  for scale: a lead is a customer, a contact and an opportunity created in one call.

The figures are medians over rounds of the calls that got the status they should, per
second; `new` is held to >= TARGET_RPS, and reported against `create`."""

import asyncio
import os
import re
import shutil
from dataclasses import asdict
from typing import Any

import asyncpg
import httpx

from bench import seed
from bench.load import Summary
from bench.opportunities import seeded_database, where_is
from bench.random_load import Pattern, choose, measure
from bench.report import RESULTS, Figure, Options, Report, figure, machine, write_json

NAME = "leads"
DATA_DIR = RESULTS / "leads-db"
DATABASE = "salescore_bench_leads"
SPEC = seed.Spec(opportunities=10_000, users=50, customers=1_000, processes=2)
CONNECTIONS = 16
TARGET_RPS = 300.0
PRIMED = 1_000
FIRST_NEW = 10_000_000  # past every primed number
SOURCE, CAMPAIGN = "Web form", "Spring fair"
NAMED = f'"source": "{SOURCE}", "campaign": "{CAMPAIGN}"'
# Each placeholder appears once: a counter moves on at every occurrence.
NEW_BODY = (
    '{"customer": {"name": "Lead {n} AS", "external_id": "lead-c-{c}", '
    '"org_number": "9{g}"}, '
    '"contact": {"name": "Kari Nordmann", "email": "kari@lead.test", '
    '"external_id": "lead-p-{p}"}, '
    '"opportunity": {"name": "Lead {n}", "external_id": "lead-o-{o}", '
    '"amount": "{amount}00.00", "owner_id": {owner}, ' + NAMED + ', '
    '"follow_up_date": "2027-0{month}-1{day}"}}')
MATCHED_BODY = (
    '{"customer": {"name": "Lead AS", "external_id": "lead-c-{c}"}, '
    '"opportunity": {"name": "Lead", "external_id": "lead-o-{o}", "owner_id": {owner}, '
    + NAMED + '}}')
CREATE_BODY = ('{"name": "Deal {n}", "customer_id": {customer}, "amount": "{amount}00.00", '
               '"owner_id": {owner}, "source_id": %d, "campaign_id": %d, '
               '"follow_up_date": "2027-0{month}-1{day}"}')


def ranges_of(seeded: seed.Seeded) -> dict[str, tuple[int, int]]:
    return {"owner": seeded.users, "amount": (1, 9999), "month": (1, 9), "day": (0, 9),
            "customer": seeded.customers, "n": (1, 10**9)}


async def add_names(dsn: str, organization_id: int) -> tuple[int, int]:
    """The source and the campaign the leads name; their ids."""
    connection = await asyncpg.connect(dsn)
    try:
        source = await connection.fetchval(
            "INSERT INTO sources (organization_id, name, position) VALUES ($1, $2, 1) "
            "RETURNING id", organization_id, SOURCE)
        campaign = await connection.fetchval(
            "INSERT INTO campaigns (organization_id, name) VALUES ($1, $2) RETURNING id",
            organization_id, CAMPAIGN)
        return int(source), int(campaign)
    finally:
        await connection.close()


def filled(template: str, values: dict[str, int]) -> str:
    return re.sub(r"\{(\w+)\}", lambda found: str(values[found[1]]), template)


async def prime(base_url: str, headers: dict[str, str], owner: int) -> int:
    """PRIMED new leads numbered 1.. (what `matched` finds); how many were created."""
    numbers = iter(range(1, PRIMED + 1))
    created = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal created
        for n in numbers:
            body = filled(NEW_BODY, {"c": n, "g": n, "p": n, "o": n, "n": n, "amount": 1,
                                     "owner": owner, "month": 3, "day": 1})
            response = await client.post("/v1/leads", content=body)
            created += response.status_code == 201

    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30.0,
                                 trust_env=False) as client:
        await asyncio.gather(*(worker(client) for _ in range(CONNECTIONS)))
    return created


def patterns(base_url: str, pid: int, seeded: seed.Seeded, headers: dict[str, str],
             ids: tuple[int, int]) -> list[Pattern]:
    ranges = ranges_of(seeded)
    common = {"headers": headers, "method": "POST", "connections": CONNECTIONS,
              "server_pid": pid}
    return [
        Pattern("new", base_url, "/v1/leads", body=NEW_BODY, expect=201, ranges=ranges,
                counters={name: FIRST_NEW for name in ("c", "g", "p", "o")}, **common),
        Pattern("matched", base_url, "/v1/leads", body=MATCHED_BODY, expect=200,
                ranges={**ranges, "c": (1, PRIMED), "o": (1, PRIMED)}, **common),
        Pattern("create", base_url, "/v1/opportunities", body=CREATE_BODY % ids,
                expect=201, ranges=ranges, **common),
    ]


def run(options: Options) -> Report:
    load = choose(options.tool, seconds=options.seconds)
    if not os.environ.get("SALESCORE_DATABASE_URL"):
        shutil.rmtree(DATA_DIR, ignore_errors=True)
    with seeded_database(DATA_DIR, SPEC, reseed=True, database_name=DATABASE) as (
            server, seeded, dsn):
        token = server.token(email=seeded.email, password=seeded.password,
                             organization_id=seeded.organization_id)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        ids = asyncio.run(add_names(dsn, seeded.organization_id))
        primed = asyncio.run(prime(server.base_url, headers, seeded.users[0]))
        summaries = measure(load, patterns(server.base_url, server.process.pid, seeded,
                                           headers, ids), options.rounds)
    if not os.environ.get("SALESCORE_DATABASE_URL"):
        shutil.rmtree(DATA_DIR, ignore_errors=True)
    stopped = server.stopped
    assert stopped is not None
    by = {s.name: s for s in summaries}
    data: dict[str, Any] = {
        "tool": load.description, "rounds": options.rounds, "seconds": options.seconds,
        "connections": CONNECTIONS, "load_average_after": os.getloadavg(),
        "database": "embedded" if server.embedded_database else "external",
        "database_at": where_is(dsn), "seed": asdict(SPEC), "primed": primed,
        "endpoints": {s.name: s.as_dict() for s in summaries},
        "figures": [asdict(f) for f in figures(by)],
        "server_stop": {"exit_code": stopped.exit_code, "seconds": stopped.seconds,
                        "killed": stopped.killed, "log_problems": list(stopped.log_problems)},
    }
    write_json(f"{NAME}-{data['database']}", {"benchmark": NAME, "machine": machine(), **data})
    failed = (stopped.exit_code != 0 or primed != PRIMED
              or any(s.errors for s in summaries))
    return Report(name=NAME, text=render(data, summaries), data=data, failed=failed)


def figures(by: dict[str, Summary]) -> list[Figure]:
    create = by["create"].ok_rps
    return [figure(f"{NAME}.new_c{CONNECTIONS}", by["new"].ok_rps, "req/s", baseline=create,
                   op=">=", limit=TARGET_RPS),
            figure(f"{NAME}.matched_c{CONNECTIONS}", by["matched"].ok_rps, "req/s",
                   baseline=create),
            figure(f"{NAME}.create_opportunity_c{CONNECTIONS}", create, "req/s")]


def render(data: dict[str, Any], summaries: list[Summary]) -> str:
    spec = data["seed"]
    lines = [
        f"tool      {data['tool']}; {data['rounds']} rounds, medians over rounds",
        f"database  {data['database']} ({data['database_at']}), fresh: "
        f"{spec['opportunities']:,} opportunities, {spec['users']} users, "
        f"{spec['customers']:,} customers; {data['primed']:,} leads primed",
        "",
        f"{'case':<10}{'conns':>6}{'ok/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}"
        f"{'srv CPU':>8}",
    ]
    for s in summaries:
        cpu = "-" if s.server_cpu is None else f"{s.server_cpu:.0%}"
        lines.append(f"{s.name:<10}{CONNECTIONS:>6}{s.ok_rps:>9.0f}{s.p50_ms:>8.1f}"
                     f"{s.p99_ms:>8.1f}{s.errors:>7}{cpu:>8}")
    lines.append("")
    for found in figures({s.name: s for s in summaries}):
        verdict = "-" if found.met is None else "ok" if found.met else "MISSED"
        ratio = "-" if found.ratio is None else f"{found.ratio:.2f}"
        lines.append(f"{found.name:<28}{found.value or 0:>8.0f} req/s  vs create {ratio:>5}"
                     f"  target {found.target or '-':<14}{verdict}")
    stop = data["server_stop"]
    lines += ["", f"server    exit code {stop['exit_code']}; "
              f"{len(stop['log_problems'])} warning/error lines in its log"]
    lines += [f"          {line}" for line in stop["log_problems"][:10]]
    return "\n".join(lines)
