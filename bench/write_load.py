"""The API's write paths (bench/baselines.py) against their raw-asyncpg baselines.

For each `Case` (a path at a number of connections) the API is driven over HTTP by the
load generator of random_load.py (wrk when installed, else httpx) and the baseline by this
process: `connections` asyncpg connections from a pool, each running the baseline's
statements in one transaction per call, back to back, for the same time. The two run one
after the other in every round (API first in even rounds, baseline first in odd ones, the
cases rotated), so that they see the same machine and the same database.

The figures are medians over rounds of the calls that did what they should, per second
(a fast failure adds nothing); the ratio is the median of the rounds' API / baseline.

A pooled path (each call must find an untouched opportunity: one cannot win a deal
twice) takes the ids of a `Pool`, made before each run with room for half as much again
as the fastest run of that path and side so far (a first guess before the first)."""

import asyncio
import math
import random
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import asyncpg

from bench import seed
from bench.baselines import World, WritePath, load_world, make_pool
from bench.load import Round, Summary, percentile, process_cpu_seconds
from bench.random_load import Pattern, RandomLoad
from bench.report import Figure, figure

GUESS_RPS = {"api": 1000.0, "baseline": 4000.0}
HEADROOM = 1.5
POOL_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class Case:
    path: WritePath
    connections: int

    @property
    def name(self) -> str:
        return f"{self.path.name}_c{self.connections}"


@dataclass(frozen=True, slots=True)
class Pair:
    case: Case
    api: Summary
    baseline: Summary

    @property
    def ratio(self) -> float | None:
        """The median over rounds of API / baseline (both as calls that worked, per
        second), the two runs of a round having seen the same machine."""
        ratios = [a.ok_rps / b.ok_rps for a, b in zip(self.api.rounds, self.baseline.rounds,
                                                      strict=True) if b.ok_rps]
        return statistics.median(ratios) if ratios else None

    def figure(self, name: str, *, target: float | None) -> Figure:
        """`name` at the API's rate against the baseline's; `target` on the ratio."""
        return figure(name, self.api.ok_rps, "req/s", baseline=self.baseline.ok_rps,
                      ratio=self.ratio, on="ratio", op=None if target is None else ">=",
                      limit=target)


def world_of(dsn: str, seeded: seed.Seeded) -> World:
    """The world of a seed (bench/seed.py): written as its admin; the first of the copied
    users is the seller a seller-added call adds, the others own and are assigned."""
    async def read() -> World:
        connection = await asyncpg.connect(dsn)
        try:
            first, last = seeded.users
            return await load_world(
                connection, organization_id=seeded.organization_id,
                actor_id=seeded.admin_user_id, users=(first + 1, last), seller_id=first,
                customers=seeded.customers, opportunities=seeded.opportunities,
                process_id=seeded.default_process_id)
        finally:
            await connection.close()

    return asyncio.run(read())


class Pool:
    """Untouched opportunities with consecutive ids, handed out from the lowest."""

    def __init__(self, dsn: str, world: World) -> None:
        self._dsn, self._world = dsn, world
        self._next, self._end = 0, 0  # [next, end) are untouched
        self.made = 0

    def reserve(self, count: int) -> int:
        """The first of `count` untouched ids in a row, made now if there are too few
        (what was left below them is not used again)."""
        if self._end - self._next < count:
            first, last = asyncio.run(self._make(max(count, POOL_BATCH)))
            self._next, self._end = first, last + 1
            self.made += last - first + 1
        return self._next

    def consume(self, count: int) -> None:
        self._next += count

    async def _make(self, count: int) -> tuple[int, int]:
        connection = await asyncpg.connect(self._dsn)
        try:
            return await make_pool(connection, self._world, count)
        finally:
            await connection.close()


async def _raw(dsn: str, world: World, path: WritePath, connections: int, seconds: float,
               reserved: tuple[int, int] | None) -> Round:
    """The baseline, `connections` at a time, for `seconds`, or until the ids `reserved`
    (first, how many) of a pooled path are used up: an id past them would be a failure
    as fast as it is worthless, and the run's rate, over the time it took, stays true."""
    ranges = path.ranges(world)
    ids = None if reserved is None else iter(range(reserved[0], sum(reserved)))
    latencies: list[float] = []
    errors = 0
    async with asyncpg.create_pool(dsn, min_size=connections, max_size=connections) as pool:
        began, cpu = time.perf_counter(), time.process_time()

        async def worker() -> None:
            nonlocal errors
            rng = random.Random()
            async with pool.acquire() as connection:
                while time.perf_counter() - began < seconds:
                    values = {name: rng.randint(*bounds) for name, bounds in ranges.items()}
                    if ids is not None:
                        taken = next(ids, None)
                        if taken is None:
                            return
                        values["id"] = taken
                    start = time.perf_counter()
                    try:
                        async with connection.transaction():
                            ok = await path.baseline(connection, world, values)
                    except asyncpg.PostgresError:
                        ok = False
                    latencies.append(time.perf_counter() - start)
                    errors += not ok

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    latencies.sort()
    return Round(requests=len(latencies), errors=errors, seconds=elapsed,
                 p50_ms=percentile(latencies, 50) * 1e3,
                 p99_ms=percentile(latencies, 99) * 1e3, client_cpu=cpu / elapsed)


@dataclass
class Bench:
    """What the runs need: the load generator and its seconds per run, the server (URL,
    pid, the caller's headers), the database and its world, and the pool."""

    load: RandomLoad
    seconds: int
    base_url: str
    server_pid: int
    headers: Mapping[str, str]
    dsn: str
    world: World
    pool: Pool
    _fastest: dict[tuple[str, str], float] = field(default_factory=dict, init=False)

    def _reserved(self, case: Case, side: str, seconds: float) -> tuple[int, int] | None:
        """The first id and how many the run may take (None for a path with no pool)."""
        if not case.path.pooled:
            return None
        rate = self._fastest.get((case.path.name, side), GUESS_RPS[side])
        count = math.ceil(rate * seconds * HEADROOM) + case.connections
        return self.pool.reserve(count), count

    def _first_id(self, case: Case, side: str, seconds: float) -> int | None:
        reserved = self._reserved(case, side, seconds)
        return None if reserved is None else reserved[0]

    def _ran(self, case: Case, side: str, done: Round, used: int) -> Round:
        key = (case.path.name, side)
        self._fastest[key] = max(self._fastest.get(key, 0.0), done.rps)
        if case.path.pooled:
            self.pool.consume(used)
        return done

    def api(self, case: Case, load: RandomLoad, seconds: float) -> Round:
        path = case.path
        first = self._first_id(case, "api", seconds)
        pattern = Pattern(
            case.name, self.base_url, path.path, ranges=path.ranges(self.world),
            headers={**self.headers, "Content-Type": "application/json"},
            method=path.method, body=path.body(self.world), expect=path.expect,
            connections=case.connections, server_pid=self.server_pid,
            counters={} if first is None else {"id": first})
        cpu = process_cpu_seconds(self.server_pid)
        done = load.run(pattern)
        used = process_cpu_seconds(self.server_pid) - cpu
        done = replace(done, server_cpu=used / done.seconds if done.seconds else 0.0)
        return self._ran(case, "api", done, done.requests + done.errors + case.connections)

    def baseline(self, case: Case, seconds: float) -> Round:
        reserved = self._reserved(case, "baseline", seconds)
        done = asyncio.run(_raw(self.dsn, self.world, case.path, case.connections, seconds,
                                reserved))
        return self._ran(case, "baseline", done, done.requests)

    def measure(self, cases: Sequence[Case], rounds: int) -> list[Pair]:
        """A warm-up of each side of each case, then `rounds` rounds."""
        short = self.load.shorter()
        short_seconds = max(1, self.seconds // 3)
        for case in cases:
            self.api(case, short, short_seconds)
            self.baseline(case, short_seconds)
        runs: dict[str, dict[str, list[Round]]] = {c.name: {"api": [], "baseline": []}
                                                   for c in cases}
        for number in range(rounds):
            shift = number % len(cases)
            for case in [*cases[shift:], *cases[:shift]]:
                sides = ("api", "baseline") if number % 2 == 0 else ("baseline", "api")
                for side in sides:
                    done = (self.api(case, self.load, self.seconds) if side == "api"
                            else self.baseline(case, self.seconds))
                    runs[case.name][side].append(done)
        return [Pair(case, Summary(f"{case.name}_api", tuple(runs[case.name]["api"])),
                     Summary(f"{case.name}_baseline", tuple(runs[case.name]["baseline"])))
                for case in cases]


def pair_rows(pairs: Sequence[Pair], label: str) -> list[str]:
    """A table of the pairs: each side's rate, latency and errors, and the ratio."""
    lines = [f"{'path':<22}{'conns':>6}{'API/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}"
             f"{'srv CPU':>8}{'raw/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}{'ratio':>7}"
             f"  ({label})"]
    for pair in pairs:
        api, raw = pair.api, pair.baseline
        ratio = "-" if pair.ratio is None else f"{pair.ratio:.2f}"
        cpu = "-" if api.server_cpu is None else f"{api.server_cpu:.0%}"
        lines.append(
            f"{pair.case.path.name:<22}{pair.case.connections:>6}{api.ok_rps:>9.0f}"
            f"{api.p50_ms:>8.1f}{api.p99_ms:>8.1f}{api.errors:>7}{cpu:>8}{raw.ok_rps:>9.0f}"
            f"{raw.p50_ms:>8.1f}{raw.p99_ms:>8.1f}{raw.errors:>7}{ratio:>7}")
    return lines


def pair_data(pair: Pair) -> dict[str, object]:
    return {"path": pair.case.path.name, "connections": pair.case.connections,
            "method": pair.case.path.method, "url": pair.case.path.path,
            "api": pair.api.as_dict(), "baseline": pair.baseline.as_dict(),
            "ratio": pair.ratio,
            "rows_per_call": {t: {"inserted": i, "changed": c}
                              for t, (i, c) in pair.case.path.rows.items()}}
