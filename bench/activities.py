"""activities: the speed targets of issue 4, on the opportunities seed (bench/seed.py).

Into the seeded organization go 2,000,000 activities (COPY, once; kept like the seed,
marked in `bench_activities`): tasks due, and appointments and calls with a start and an
end, over the seed's 200 users and two years. Then, over loopback, one worker:
- a seller's calendar for a month (`assignee_id` + `starts_at` range, sorted, 50 a page)
  with one connection, so that p99 is service time: target p99 < 50 ms;
- creating opportunities with a follow-up date (two tasks made: the follow-up and the
  reminder) and without (the reminder only), 16 writers each, in the same run: the time
  per create with one over the time without, target <= 1.3.
What the run writes is removed at the end."""

import asyncio
import os
import random
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from bench import seed
from bench.opportunities import WRITERS, check, data_dir_for, remove_written, seeded_database
from bench.random_load import Pattern, choose, measure
from bench.report import Options, Report, machine, write_json

NAME = "activities"
ACTIVITIES = 2_000_000
LIST_P99_MS, FOLLOW_UP_RATIO = 50.0, 1.3
MONTH = ("2026-12-01T00:00:00Z", "2026-12-31T23:59:59Z")
START = datetime(2026, 1, 1, 7, tzinfo=UTC)
COLUMNS = ("organization_id", "kind", "subject", "due_at", "starts_at", "ends_at", "done",
           "done_at", "assignee_id", "origin", "created_at", "updated_at")
MARKER = "CREATE TABLE IF NOT EXISTS bench_activities (organization_id bigint PRIMARY KEY," \
         " rows bigint NOT NULL)"


def activity_rows(org: int, users: tuple[int, int], first: int,
                  count: int) -> list[tuple[Any, ...]]:
    rng = random.Random(20261123 + first)
    rows = []
    for n in range(first, first + count):
        moment = START + timedelta(minutes=30 * rng.randrange(2 * 365 * 20))
        kind = rng.choice(("task", "task", "appointment", "call", "note"))
        timed = kind in {"appointment", "call"}
        done = moment < datetime(2026, 11, 23, tzinfo=UTC) and rng.random() < 0.8
        rows.append((org, kind, f"Bench {kind} {n}", None if timed else moment,
                     moment if timed else None,
                     moment + timedelta(minutes=30) if timed else None, done,
                     moment if done else None, rng.randint(*users), "manual", moment, moment))
    return rows


async def seed_activities(dsn: str, seeded: seed.Seeded) -> tuple[int, float]:
    """The bench activities (made once); how many there are and the seconds it took."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(MARKER)
        kept = await connection.fetchval("SELECT rows FROM bench_activities WHERE "
                                         "organization_id = $1", seeded.organization_id)
        if kept == ACTIVITIES:
            return ACTIVITIES, 0.0
        began = asyncio.get_running_loop().time()
        async with connection.transaction():
            await connection.execute("DELETE FROM activities WHERE organization_id = $1",
                                     seeded.organization_id)
            step = 200_000
            for first in range(0, ACTIVITIES, step):
                rows = activity_rows(seeded.organization_id, seeded.users, first, step)
                await connection.copy_records_to_table("activities", records=rows,
                                                       columns=COLUMNS)
            await connection.execute(
                "INSERT INTO bench_activities VALUES ($1, $2) ON CONFLICT (organization_id)"
                " DO UPDATE SET rows = excluded.rows", seeded.organization_id, ACTIVITIES)
        await connection.execute("VACUUM ANALYZE activities")
        return ACTIVITIES, asyncio.get_running_loop().time() - began
    finally:
        await connection.close()


def patterns(base_url: str, pid: int, seeded: seed.Seeded,
             token: str) -> tuple[Pattern, Pattern, Pattern]:
    auth = {"Authorization": f"Bearer {token}"}
    write = {**auth, "Content-Type": "application/json"}
    body = ('{"name": "BenchFU {n}", "customer_id": {customer}, "amount": "100.00"%s}')
    ranges = {"n": (1, 10**9), "customer": seeded.customers, "day": (10, 28)}
    calendar = Pattern(
        "calendar_month", base_url,
        f"/v1/activities?assignee_id={{user}}&starts_at%5Bgte%5D={MONTH[0]}"
        f"&starts_at%5Blte%5D={MONTH[1]}&sort=starts_at&limit=50",
        ranges={"user": seeded.users}, headers=auth, server_pid=pid)
    without = Pattern("create_without_follow_up", base_url, "/v1/opportunities",
                      method="POST", expect=201, body=body % "", ranges=ranges,
                      headers=write, connections=WRITERS, server_pid=pid)
    with_date = Pattern("create_with_follow_up", base_url, "/v1/opportunities",
                        method="POST", expect=201,
                        body=body % ', "follow_up_date": "2027-01-{day}"', ranges=ranges,
                        headers=write, connections=WRITERS, server_pid=pid)
    return calendar, without, with_date


def run(options: Options, *, reseed: bool = False, spec: seed.Spec | None = None) -> Report:
    spec = spec or seed.Spec()
    load = choose(options.tool, seconds=options.seconds)
    with seeded_database(data_dir_for(spec), spec, reseed=reseed) as (server, seeded, dsn):
        asyncio.run(remove_written(dsn, seeded))
        count, seconds = asyncio.run(seed_activities(dsn, seeded))
        token = server.token(email=seeded.email, password=seeded.password,
                             organization_id=seeded.organization_id)
        calendar, without, with_date = patterns(server.base_url, server.process.pid, seeded,
                                                token)
        summaries = measure(load, [calendar], options.rounds)
        summaries += measure(load, [without, with_date], options.rounds)
        removed = asyncio.run(remove_written(dsn, seeded))
    by = {s.name: s for s in summaries}
    slower = (by["create_without_follow_up"].rps / by["create_with_follow_up"].rps
              if by["create_with_follow_up"].rps else 0.0)
    data: dict[str, Any] = {
        "tool": load.description, "rounds": options.rounds,
        "load_average": os.getloadavg(),
        "database": "embedded" if server.embedded_database else "external",
        "activities": count, "activities_seed_seconds": seconds,
        "seed": asdict(spec), "written_rows_removed": removed,
        "endpoints": {s.name: s.as_dict() for s in summaries},
        "checks": {"calendar_p99_ms": check(by["calendar_month"].p99_ms, "<", LIST_P99_MS),
                   "follow_up_cost_ratio": {"value": slower, "target": f"<= {FOLLOW_UP_RATIO}",
                                            "met": slower <= FOLLOW_UP_RATIO}},
    }
    write_json(f"{NAME}-{data['database']}", {"benchmark": NAME, "machine": machine(), **data})
    failed = any(s.errors for s in summaries)
    return Report(name=NAME, text=render(data), data=data, failed=failed)


def render(data: dict[str, Any]) -> str:
    lines = [f"tool      {data['tool']}, {data['rounds']} rounds, medians over rounds",
             f"database  {data['database']}, {data['activities']:,} activities "
             f"(seeded in {data['activities_seed_seconds']:.1f} s; 0 = kept)", "",
             f"{'endpoint':<28}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"]
    for name, figures in data["endpoints"].items():
        lines.append(f"{name:<28}{figures['rps']:>9.0f}{figures['p50_ms']:>9.2f}"
                     f"{figures['p99_ms']:>9.2f}{figures['errors']:>8}")
    lines.append("")
    for name, result in data["checks"].items():
        lines.append(f"{name:<28}{result['value']:>9.2f}  (target {result['target']})  "
                     f"{'ok' if result['met'] else 'MISSED'}")
    return "\n".join(lines)
