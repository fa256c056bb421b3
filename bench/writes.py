"""writes: every write path of the API on a fresh database, against raw asyncpg.

A new database each run (bench/results/writes-db/ for the embedded server, removed first;
with SALESCORE_DATABASE_URL set, the database `salescore_bench_writes` beside it, emptied
first), seeded small by bench/seed.py (SPEC: 10,000 opportunities, 50 users, 1,000
customers), and a real `salescore serve` (one uvicorn worker) on it. Each path of
bench/baselines.py runs through the API and as its raw-asyncpg baseline writing the same
rows in one transaction per call, as many connections at a time (bench/write_load.py):

- POST /v1/opportunities with 16 and with 32 connections (the same creates on the
  1,000,000-row database are opportunities' (d): both are in the summary);
- PATCH /v1/opportunities/{id}, POST .../move, .../win, .../lose,
  POST .../{id}/sellers and POST /v1/activities with 16.

Targets: API / baseline >= 0.6 for the creates, PATCH, move and win; lose, the seller added
and the activity report their ratio only. At most MAX_ROUNDS rounds (fewer if asked), so
that `make bench` stays within its time: 8 cases x 2 sides x (a warm-up of a third of
`--seconds` + 3 rounds of `--seconds`), some five minutes at the default 5 s with the
seeding and the pool."""

import os
import shutil
from dataclasses import asdict
from typing import Any

from bench import seed
from bench.baselines import (
    ADD_SELLER,
    CREATE,
    CREATE_ACTIVITY,
    LOSE,
    MOVE,
    PATCH,
    WIN,
    WritePath,
)
from bench.opportunities import seeded_database, where_is
from bench.random_load import choose
from bench.report import RESULTS, Figure, Options, Report, machine, write_json
from bench.write_load import Bench, Case, Pair, Pool, pair_data, pair_rows, world_of

NAME = "writes"
DATA_DIR = RESULTS / "writes-db"
DATABASE = "salescore_bench_writes"
SPEC = seed.Spec(opportunities=10_000, users=50, customers=1_000, processes=2)
RATIO_TARGET = 0.6
CONNECTIONS = 16
MAX_ROUNDS = 3
TARGETED = {CREATE.name, PATCH.name, MOVE.name, WIN.name}
CASES = (Case(CREATE, 16), Case(CREATE, 32), Case(PATCH, CONNECTIONS),
         Case(MOVE, CONNECTIONS), Case(WIN, CONNECTIONS), Case(LOSE, CONNECTIONS),
         Case(ADD_SELLER, CONNECTIONS), Case(CREATE_ACTIVITY, CONNECTIONS))


def target_of(path: WritePath) -> float | None:
    return RATIO_TARGET if path.name in TARGETED else None


def run(options: Options) -> Report:
    rounds = min(options.rounds, MAX_ROUNDS)
    load = choose(options.tool, seconds=options.seconds)
    if not os.environ.get("SALESCORE_DATABASE_URL"):
        shutil.rmtree(DATA_DIR, ignore_errors=True)
    with seeded_database(DATA_DIR, SPEC, reseed=True, database_name=DATABASE) as (
            server, seeded, dsn):
        token = server.token(email=seeded.email, password=seeded.password,
                             organization_id=seeded.organization_id)
        world = world_of(dsn, seeded)
        bench = Bench(load=load, seconds=options.seconds, base_url=server.base_url,
                      server_pid=server.process.pid,
                      headers={"Authorization": f"Bearer {token}"}, dsn=dsn, world=world,
                      pool=Pool(dsn, world))
        pairs = bench.measure(list(CASES), rounds)
    if not os.environ.get("SALESCORE_DATABASE_URL"):
        shutil.rmtree(DATA_DIR, ignore_errors=True)
    stopped = server.stopped
    assert stopped is not None
    data: dict[str, Any] = {
        "tool": load.description, "rounds": rounds, "seconds": options.seconds,
        "load_average_after": os.getloadavg(),
        "database": "embedded" if server.embedded_database else "external",
        "database_at": where_is(dsn), "seed": asdict(SPEC),
        "pool_opportunities_made": bench.pool.made,
        "cases": {pair.case.name: pair_data(pair) for pair in pairs},
        "figures": [asdict(f) for f in figures(pairs)],
        "server_stop": {"exit_code": stopped.exit_code, "seconds": stopped.seconds,
                        "killed": stopped.killed, "log_problems": list(stopped.log_problems)},
    }
    write_json(f"{NAME}-{data['database']}", {"benchmark": NAME, "machine": machine(), **data})
    failed = stopped.exit_code != 0 or any(p.api.errors or p.baseline.errors for p in pairs)
    return Report(name=NAME, text=render(data, pairs), data=data, failed=failed)


def figures(pairs: list[Pair]) -> list[Figure]:
    return [pair.figure(f"{NAME}.{pair.case.name}.fresh_db", target=target_of(pair.case.path))
            for pair in pairs]


def render(data: dict[str, Any], pairs: list[Pair]) -> str:
    spec = data["seed"]
    lines = [
        f"tool      {data['tool']}; {data['rounds']} rounds, medians over rounds; the "
        "baseline from this process (asyncpg)",
        f"database  {data['database']} ({data['database_at']}), fresh: {spec['opportunities']:,}"
        f" opportunities, {spec['users']} users, {spec['customers']:,} customers; "
        f"{data['pool_opportunities_made']:,} more made for move, win, lose and sellers",
        "",
        *pair_rows(pairs, "req/s: calls that did what they should"),
        "",
        "rows written per call (inserted/changed), API and baseline alike "
        "(tests/bench/test_baselines.py):",
    ]
    seen: set[str] = set()
    for pair in pairs:
        path = pair.case.path
        if path.name in seen:
            continue
        seen.add(path.name)
        rows = ", ".join(f"{table} {i}/{c}" for table, (i, c) in path.rows.items())
        lines.append(f"  {path.method} {path.path}: {rows}")
    lines.append("")
    for found in figures(pairs):
        verdict = "-" if found.met is None else "ok" if found.met else "MISSED"
        ratio = "-" if found.ratio is None else f"{found.ratio:.2f}"
        lines.append(f"{found.name:<40}ratio {ratio:>5}  target {found.target or '-':<14}"
                     f"{verdict}")
    stop = data["server_stop"]
    lines += ["", f"server    exit code {stop['exit_code']}; "
              f"{len(stop['log_problems'])} warning/error lines in its log"]
    lines += [f"          {line}" for line in stop["log_problems"][:10]]
    return "\n".join(lines)
