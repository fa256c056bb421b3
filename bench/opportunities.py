"""opportunities: the opportunities API on 1,000,000 opportunities, against baselines.

The data set is bench/seed.py's, kept between runs (bench/results/opportunities-db-*/ for
the embedded server; the database itself when SALESCORE_DATABASE_URL is set, which is made
if missing and must be the bench's own); `python -m bench.seed --reseed` makes it anew. A real
`salescore serve` (one uvicorn worker) and bench/baseline_app.py (the same, one worker)
run side by side on that database; the load comes over loopback (random_load.py):

(a) GET /v1/opportunities/{id}, random ids, under load, against the baseline app's
    bare asyncpg route: target ratio of throughputs >= 0.75; and the same with two
    processes each (`serve --processes 2` against the baseline app with two uvicorn
    workers), started for this pair after the other reads: target >= 0.75 too;
(b) a page of one owner's open opportunities in a three-month window, one connection:
    target p99 < 50 ms;
(c) `q=AS%` and `q=%nord%` (name, description, customer name), one connection:
    target p50 < 150 ms;
(d) POST /v1/opportunities with 16 and with 32 connections, against the raw-asyncpg
    baseline of bench/baselines.py writing the same nine rows in one transaction, as
    many at a time (bench/write_load.py), at most CREATE_ROUNDS rounds: target ratio
    >= 0.6 at each; and, from an earlier issue, >= 300 created per second with 16. The
    same creates on a fresh database are in bench/writes.py, and both are in the summary:
    a large table is the slower case. What (d) and its baseline wrote is deleted at the
    end."""

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from bench import seed
from bench.baselines import CREATE
from bench.load import Summary
from bench.random_load import Pattern, RandomLoad, choose, measure
from bench.report import RESULTS, Figure, Options, Report, figure, machine, write_json
from bench.server import HOST, ROOT, Server, Stopped, free_port, salescore, server_env, stop
from bench.write_load import Bench, Case, Pair, Pool, pair_data, pair_rows, world_of

NAME = "opportunities"
LOGS = RESULTS / "opportunities-logs"
READY_TIMEOUT = 120.0
RATIO_TARGET, LIST_P99_MS, SEARCH_P50_MS, CREATE_RPS = 0.75, 50.0, 150.0, 300.0
PROCESSES = 2  # the pair of (a) served by several processes
CONNECTIONS = 32  # database connections each server keeps, in all its processes
CREATE_RATIO = 0.6
WRITERS = 16
CREATE_CONNECTIONS = (WRITERS, 32)
CREATE_ROUNDS = 3  # at most: four runs a round, and `make bench` has 20 minutes
LATENCY_CONNECTIONS = 1
WINDOW = ("2026-12-01", "2027-02-28")


def data_dir_for(spec: seed.Spec) -> Path:
    return RESULTS / f"opportunities-db-{spec.opportunities}"


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def external_url(name: str | None) -> str | None:
    """SALESCORE_DATABASE_URL, or the database `name` beside it; None when unset."""
    external = os.environ.get("SALESCORE_DATABASE_URL")
    if not external or name is None:
        return external
    return urlunsplit(urlsplit(external)._replace(path=f"/{name}"))


@contextlib.contextmanager
def database(data_dir: Path, name: str | None = None) -> Iterator[str]:
    """The asyncpg DSN of SALESCORE_DATABASE_URL (or of the database `name` beside it;
    made if missing), else of the embedded server of `data_dir`, kept running until the
    block ends."""
    from salescore.database_server import create_database, embedded_url, release_embedded

    external = external_url(name)
    if external:
        dsn = asyncpg_dsn(external)
        parts = urlsplit(dsn)
        admin = urlunsplit(parts._replace(path="/postgres"))
        asyncio.run(create_database(admin, parts.path.lstrip("/")))
        yield dsn
        return
    try:
        yield asyncpg_dsn(embedded_url(data_dir))
    finally:
        release_embedded()  # the last user of the embedded server stops it


@contextlib.contextmanager
def spawned(name: str, command: list[str], env: dict[str, str], port: int,
            ready_path: str) -> Iterator[tuple[subprocess.Popen[bytes], float, list[Stopped]]]:
    """A server process, ready (its first 200 on `ready_path`); SIGINT at the end. The
    third item gets how it stopped."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"{name}.log"
    stopped: list[Stopped] = []
    with log_path.open("wb") as log, httpx.Client(timeout=1.0, trust_env=False) as probe:
        began = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            while True:
                if process.poll() is not None or time.perf_counter() - began > READY_TIMEOUT:
                    raise RuntimeError(f"{name} did not start:\n{log_path.read_text()[-3000:]}")
                with contextlib.suppress(httpx.TransportError):
                    if probe.get(f"http://{HOST}:{port}{ready_path}").status_code == 200:
                        break
                time.sleep(0.05)
            yield process, time.perf_counter() - began, stopped
        finally:
            # LOGS holds no pg/: the embedded database is this process's to stop, not stop()'s
            stopped.append(stop(process, data_dir=LOGS, log_path=log_path))


@contextlib.contextmanager
def seeded_database(data_dir: Path, spec: seed.Spec, *, reseed: bool,
                    database_name: str | None = None,
                    afterwards: Callable[[seed.Seeded, str], None] | None = None,
                    ) -> Iterator[tuple[Server, seed.Seeded, str]]:
    """A running salescore server on the seeded database (seeded first if need be); with
    SALESCORE_DATABASE_URL set, `database_name` names another database beside it.
    `afterwards(seeded, dsn)` runs once the server has stopped, the database still up."""
    with database(data_dir, database_name) as dsn:
        kept = asyncio.run(seed.prepare(dsn, spec, reseed=reseed))
        with api_server(data_dir, database_name) as (server, stopped):
            seeded = kept or seed.seed(server, dsn, spec)
            yield server, seeded, dsn
        server.stopped = stopped[0]
        if afterwards is not None:
            afterwards(seeded, dsn)



@contextlib.contextmanager
def baseline_server(dsn: str, organization_id: int,
                    workers: int = 1) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {**os.environ, "BENCH_DSN": dsn, "BENCH_ORGANIZATION_ID": str(organization_id),
           "BENCH_POOL_SIZE": str(CONNECTIONS // workers)}
    with spawned(f"baseline-{workers}", [sys.executable, "-m", "bench.baseline_app",
                                         "--port", str(port), "--workers", str(workers)],
                 env, port, "/healthz") as (process, _, _stopped):
        yield f"http://{HOST}:{port}", process.pid


@contextlib.contextmanager
def api_server(data_dir: Path, database_name: str | None,
               processes: int = 1) -> Iterator[tuple[Server, list[Stopped]]]:
    """`salescore serve --processes N` on the bench's database, CONNECTIONS database
    connections in all (as many as the baseline app); the list gets how it stopped."""
    port = free_port()
    env = server_env(data_dir) | {"SALESCORE_DB_POOL_SIZE": str(CONNECTIONS // processes)}
    external = external_url(database_name)
    if external:
        env["SALESCORE_DATABASE_URL"] = external
    command = [salescore(), "serve", "--host", HOST, "--port", str(port),
               "--processes", str(processes)]
    with spawned(f"salescore-{processes}", command, env, port, "/readyz") as (
            process, ready, stopped):
        yield Server(process=process, base_url=f"http://{HOST}:{port}", env=env,
                     embedded_database=not env.get("SALESCORE_DATABASE_URL"),
                     ready_seconds=ready), stopped


def processes_pair(data_dir: Path, seeded: seed.Seeded, dsn: str, load: RandomLoad,
                   options: Options) -> tuple[list[Summary], Stopped]:
    """(a) with PROCESSES processes each side; the servers' CPU is not sampled (it is
    spread over their worker processes)."""
    with api_server(data_dir, None, PROCESSES) as (server, stopped), \
            baseline_server(dsn, seeded.organization_id, PROCESSES) as baseline:
        token = server.token(email=seeded.email, password=seeded.password,
                             organization_id=seeded.organization_id)
        ids = {"id": seeded.opportunities}
        pair = [Pattern(f"get_api_p{PROCESSES}", server.base_url, "/v1/opportunities/{id}",
                        headers={"Authorization": f"Bearer {token}"},
                        connections=options.concurrency, ranges=ids),
                Pattern(f"get_baseline_p{PROCESSES}", baseline[0], "/v1/opportunities/{id}",
                        connections=options.concurrency, ranges=ids)]
        summaries = measure(load, pair, options.rounds)
    return summaries, stopped[0]


async def remove_written(dsn: str, seeded: seed.Seeded) -> int:
    """Delete the opportunities made after the seed, what refers to them, every event but
    the organization's setup and every notification (the seed has none), so that every
    run (even after one that failed) measures the same data."""
    org, last = seeded.organization_id, seeded.opportunities[1]
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            referring = await connection.fetch(
                "SELECT c.conrelid::regclass::text AS tab, a.attname AS col"
                " FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid"
                " AND a.attnum = ANY (c.conkey) AND a.attname <> 'organization_id'"
                " WHERE c.confrelid = 'opportunities'::regclass AND c.contype = 'f'")
            for ref in referring:
                await connection.execute(f'DELETE FROM {ref["tab"]} WHERE organization_id = $1'
                                         f' AND "{ref["col"]}" > $2', org, last)
            removed: int = await connection.fetchval(
                "WITH gone AS (DELETE FROM opportunities WHERE organization_id = $1 AND"
                " id > $2 RETURNING 1) SELECT count(*) FROM gone", org, last)
            for history in ("opportunity_history", "opportunity_seller_history"):
                if await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", history):
                    await connection.execute(f"DELETE FROM {history} WHERE"
                                             " organization_id = $1 AND opportunity_id > $2",
                                             org, last)
            await connection.execute(
                "DELETE FROM events WHERE organization_id = $1 AND aggregate_type NOT IN"
                " ('organization', 'user', 'api_key')", org)
            await connection.execute("DELETE FROM notifications WHERE organization_id = $1",
                                     org)
        await connection.execute("VACUUM ANALYZE opportunities, opportunity_sellers, events")
        return removed
    finally:
        await connection.close()


def patterns(server: Server, seeded: seed.Seeded, baseline: tuple[str, int],
             concurrency: int, auth: dict[str, str]) -> list[Pattern]:

    def api(name: str, path: str, connections: int, **more: Any) -> Pattern:
        return Pattern(name, server.base_url, path, headers=more.pop("headers", auth),
                       connections=connections, server_pid=server.process.pid, **more)

    ids = {"id": seeded.opportunities}
    window = f"expected_close_date%5Bgte%5D={WINDOW[0]}&expected_close_date%5Blte%5D={WINDOW[1]}"
    reads = [
        api("get_api", "/v1/opportunities/{id}", concurrency, ranges=ids),
        Pattern("get_baseline", baseline[0], "/v1/opportunities/{id}", ranges=ids,
                connections=concurrency, server_pid=baseline[1]),
        api("list_owner_open", f"/v1/opportunities?owner_id={{owner}}&status=open&{window}"
            "&limit=50", LATENCY_CONNECTIONS, ranges={"owner": seeded.users}),
        api("search_AS%", "/v1/opportunities?q=AS%25", LATENCY_CONNECTIONS),
        api("search_%nord%", "/v1/opportunities?q=%25nord%25", LATENCY_CONNECTIONS),
    ]
    return reads


def run(options: Options, *, reseed: bool = False, spec: seed.Spec | None = None) -> Report:
    spec = spec or seed.Spec()
    load_before = os.getloadavg()
    load = choose(options.tool, seconds=options.seconds)
    several: list[Summary] = []
    several_stopped: list[Stopped] = []

    def with_processes(seeded: seed.Seeded, dsn: str) -> None:
        # after the one-process server has stopped: the database takes 100 connections
        summaries, stopped = processes_pair(data_dir_for(spec), seeded, dsn, load, options)
        several.extend(summaries)
        several_stopped.append(stopped)

    with seeded_database(data_dir_for(spec), spec, reseed=reseed,
                         afterwards=with_processes) as (server, seeded, dsn):
        leftover = asyncio.run(remove_written(dsn, seeded))  # from a run that failed
        token = server.token(email=seeded.email, password=seeded.password,
                             organization_id=seeded.organization_id)
        auth = {"Authorization": f"Bearer {token}"}
        with baseline_server(dsn, seeded.organization_id) as baseline:
            reads = patterns(server, seeded, baseline, options.concurrency, auth)
            summaries = measure(load, reads, options.rounds)
        world = world_of(dsn, seeded)
        bench = Bench(load=load, seconds=options.seconds, base_url=server.base_url,
                      server_pid=server.process.pid, headers=auth, dsn=dsn, world=world,
                      pool=Pool(dsn, world))
        creates = bench.measure([Case(CREATE, n) for n in CREATE_CONNECTIONS],
                                min(options.rounds, CREATE_ROUNDS))
        removed = asyncio.run(remove_written(dsn, seeded))
    stopped = server.stopped
    assert stopped is not None
    summaries += several
    by = {s.name: s for s in summaries}
    base = by["get_baseline"].rps
    connections = {s.name: options.concurrency for s in several}
    connections |= {p.name: p.connections for p in reads}
    several_base = by[f"get_baseline_p{PROCESSES}"].rps
    data: dict[str, Any] = {
        "tool": load.description, "rounds": options.rounds,
        "load_average_before": load_before,
        "database": "embedded" if server.embedded_database else "external",
        "database_at": where_is(dsn),
        "seed": {**asdict(seeded), "spec": asdict(spec),
                 "rows_per_second": seeded.rows_per_second},
        "endpoints": {s.name: {**s.as_dict(), "connections": connections[s.name]}
                      for s in summaries},
        "creates": [pair_data(pair) for pair in creates],
        "checks": {
            "get_ratio": check(by["get_api"].rps / base if base else 0.0, ">=", RATIO_TARGET),
            f"get_ratio_p{PROCESSES}": check(
                by[f"get_api_p{PROCESSES}"].rps / several_base if several_base else 0.0,
                ">=", RATIO_TARGET),
            "list_p99_ms": check(by["list_owner_open"].p99_ms, "<", LIST_P99_MS),
            "search_AS_p50_ms": check(by["search_AS%"].p50_ms, "<", SEARCH_P50_MS),
            "search_nord_p50_ms": check(by["search_%nord%"].p50_ms, "<", SEARCH_P50_MS),
            "create_rps": check(creates[0].api.ok_rps, ">=", CREATE_RPS),
            **{f"create_vs_raw_c{pair.case.connections}":
               check(pair.ratio or 0.0, ">=", CREATE_RATIO) for pair in creates},
        },
        "pool_opportunities_made": bench.pool.made,
        "written_rows_removed": removed, "leftover_rows_removed_first": leftover,
        "server_stop": {"exit_code": stopped.exit_code, "seconds": stopped.seconds,
                        "killed": stopped.killed, "log_problems": list(stopped.log_problems)},
        f"server_p{PROCESSES}_stop": {
            "exit_code": several_stopped[0].exit_code, "seconds": several_stopped[0].seconds,
            "killed": several_stopped[0].killed,
            "log_problems": list(several_stopped[0].log_problems)},
    }
    data["figures"] = [asdict(f) for f in figures(by, creates, spec)]
    failed = (any(s.errors for s in summaries) or any(p.api.errors or p.baseline.errors
                                                      for p in creates)
              or stopped.exit_code != 0 or several_stopped[0].exit_code != 0)
    # one file per database too, so that an embedded and an external run are both kept
    write_json(f"{NAME}-{data['database'].lower()}", {"benchmark": NAME, "machine": machine(),
                                                     **data})
    return Report(name=NAME, text=render(data, summaries, creates, spec), data=data,
                  failed=failed)


def size_label(opportunities: int) -> str:
    """1M_rows, 10k_rows: how many opportunities the database holds, for figure names."""
    for unit, suffix in ((10**6, "M"), (10**3, "k")):
        if opportunities >= unit and opportunities % unit == 0:
            return f"{opportunities // unit}{suffix}_rows"
    return f"{opportunities}_rows"


def figures(by: dict[str, Summary], creates: list[Pair], spec: seed.Spec) -> list[Figure]:
    size = size_label(spec.opportunities)
    get, list_page = by["get_api"], by["list_owner_open"]
    found = [
        figure(f"{NAME}.get_by_id.{size}", get.rps, "req/s", baseline=by["get_baseline"].rps,
               on="ratio", op=">=", limit=RATIO_TARGET),
        figure(f"{NAME}.get_by_id_processes_{PROCESSES}.{size}", by[f"get_api_p{PROCESSES}"].rps,
               "req/s", baseline=by[f"get_baseline_p{PROCESSES}"].rps, on="ratio", op=">=",
               limit=RATIO_TARGET),
        figure(f"{NAME}.list_owner_open_p99.{size}", list_page.p99_ms, "ms", op="<",
               limit=LIST_P99_MS),
        figure(f"{NAME}.search_AS_p50.{size}", by["search_AS%"].p50_ms, "ms", op="<",
               limit=SEARCH_P50_MS),
        figure(f"{NAME}.search_nord_p50.{size}", by["search_%nord%"].p50_ms, "ms", op="<",
               limit=SEARCH_P50_MS),
    ]
    found += [pair.figure(f"{NAME}.create_c{pair.case.connections}.{size}",
                          target=CREATE_RATIO) for pair in creates]
    found.append(figure(f"{NAME}.create_c{WRITERS}_per_second.{size}", creates[0].api.ok_rps,
                        "req/s", op=">=", limit=CREATE_RPS))
    return found


def where_is(dsn: str) -> str:
    """host:port/database or socket-dir/database, without credentials."""
    parts = urlsplit(dsn)
    socket = parts.query.removeprefix("host=") if parts.query.startswith("host=") else ""
    return f"{parts.hostname or socket}{f':{parts.port}' if parts.port else ''}{parts.path}"


def check(value: float, op: str, target: float) -> dict[str, Any]:
    met = value >= target if op == ">=" else value < target
    return {"value": value, "target": f"{op} {target:g}", "met": met}


def render(data: dict[str, Any], summaries: list[Summary], creates: list[Pair],
           spec: seed.Spec) -> str:
    seeded, checks = data["seed"], data["checks"]
    how = "reused, seeded earlier" if seeded["reused"] else "seeded"
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in seeded["phases"].items())
    lines = [
        f"tool      {data['tool']}, {data['rounds']} rounds, medians over rounds",
        f"database  {data['database']} ({data['database_at']}); load average before the run "
        + " ".join(f"{x:.1f}" for x in data["load_average_before"]),
        f"seed      {spec.opportunities:,} opportunities, {spec.customers:,} "
        f"customers, {spec.users} users, {spec.processes} processes",
        f"          {how}: {seeded['rows']:,} rows in {seeded['seconds']:.1f} s "
        f"({seeded['rows_per_second']:,.0f} rows/s); {phases}",
        "",
        f"{'endpoint':<20}{'conns':>6}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}"
        f"{'errors':>8}{'server CPU':>12}{'CPU ms/req':>12}{'client CPU':>12}",
    ]
    for s in summaries:
        conns = data["endpoints"][s.name]["connections"]
        per = "-" if s.server_cpu is None or not s.rps else f"{s.server_cpu / s.rps * 1e3:.2f}"
        lines.append(f"{s.name:<20}{conns:>6}{s.rps:>9.0f}{s.p50_ms:>9.2f}{s.p99_ms:>9.2f}"
                     f"{s.requests:>10}{s.errors:>8}{percent(s.server_cpu):>12}{per:>12}"
                     f"{percent(s.client_cpu):>12}")
    lines += ["", *pair_rows(creates, f"{spec.opportunities:,} opportunities; raw = the "
                                      "baseline's nine rows by hand"), ""]
    labels = {"get_ratio": "(a) GET by id / baseline, req/s",
              f"get_ratio_p{PROCESSES}": f"(a) the same, {PROCESSES} processes each",
              "list_p99_ms": "(b) owner's open page, p99 ms",
              "search_AS_p50_ms": "(c) q=AS%, p50 ms",
              "search_nord_p50_ms": "(c) q=%nord%, p50 ms",
              "create_rps": f"(d) POST, {WRITERS} conns, created/s",
              **{f"create_vs_raw_c{n}": f"(d) POST / raw, {n} conns"
                 for n in CREATE_CONNECTIONS}}
    for key, label in labels.items():
        found = checks[key]
        lines.append(f"{label:<36}{found['value']:10.2f}  (target {found['target']})  "
                     f"{'ok' if found['met'] else 'MISSED'}")
    stop = data["server_stop"]
    lines += ["", f"server    exit code {stop['exit_code']}; "
              f"{len(stop['log_problems'])} warning/error lines in its log; "
              f"{data['written_rows_removed']} opportunities written by the run removed"]
    lines += [f"          {line}" for line in stop["log_problems"][:10]]
    several = data[f"server_p{PROCESSES}_stop"]
    lines += [f"server with {PROCESSES} processes: exit code {several['exit_code']}; "
              f"{len(several['log_problems'])} warning/error lines in its log"]
    return "\n".join(lines)


def percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"
