"""exports: the CSV export of the opportunities list against PostgreSQL's own COPY of the
same query (issue 16 item 6: >= 0.5x), and the server's memory while exports stream.

On the opportunities seed (bench/seed.py; 1,000,000 opportunities, `--opportunities N`
for another size), through a real `salescore serve` (one process):

- CSV: GET /v1/opportunities/export (every row, `sort=id`) read to its end by a streaming
  client, against `COPY (the export's own statement) TO STDOUT WITH (FORMAT csv, HEADER)`
  run by asyncpg on a connection of its own and read to its end: the same SQL the server
  builds (repositories/sales/exports.py), so the ratio is what the HTTP way costs.
  `rounds` rounds, the two alternating; medians. The target is on rows a second (the
  export's over COPY's); both must give the same number of lines and the export one BOM
  more than COPY's bytes. Beside them, for scale: COPY of the plain table in id order.
- Memory: the server's resident memory (VmRSS) sampled every 20 ms while it streams the
  whole list, and while it streams a tenth of it (`id[lte]`): the peak above the RSS just
  before each. Flat: the whole list's growth within the tenth's + MEMORY_SLACK_MB.
- A client gone mid-way: 1 MB read, the connection closed; the database must have no COPY
  of the export running a few seconds later.
- For scale, not targets: xlsx and PDF of 10,000 rows (seconds, and their RSS growth)."""

import asyncio
import contextlib
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg
import httpx

from bench import seed
from bench.opportunities import data_dir_for, seeded_database, where_is
from bench.report import Figure, Options, Report, figure
from bench.server import Server
from salescore.domain.listing import ListQuery, Sort
from salescore.repositories.exports import compiled
from salescore.repositories.sales.exports import opportunity_export

NAME = "exports"
PATH = "/v1/opportunities/export"
RATIO_TARGET = 0.5
MEMORY_SLACK_MB = 25.0
SAMPLE_SECONDS = 0.02
TIMEOUT_S = 1800.0
ROUNDS_AT_MOST = 5
SMALL_FILE_ROWS = 10_000
BOM = len("\ufeff".encode())


@dataclass(frozen=True, slots=True)
class Read:
    seconds: float
    bytes: int
    lines: int


class RssSampler:
    """The server's VmRSS every SAMPLE_SECONDS in a thread, while the block runs."""

    def __init__(self, server: Server) -> None:
        self._server = server
        self.before = server.rss_mb()
        self.peak = self.before
        self._done = threading.Event()

    @contextlib.contextmanager
    def sampling(self) -> Iterator["RssSampler"]:
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._done.set()
            thread.join()

    def _run(self) -> None:
        while not self._done.wait(SAMPLE_SECONDS):
            self.peak = max(self.peak, self._server.rss_mb())

    @property
    def growth(self) -> float:
        return self.peak - self.before


def http_read(base_url: str, key: str, params: dict[str, str]) -> Read:
    """The export read to its end, as a streaming client reads it."""
    size = lines = 0
    with httpx.Client(base_url=base_url, timeout=TIMEOUT_S, trust_env=False) as client:
        began = time.perf_counter()
        with client.stream("GET", PATH, params=params,
                           headers={"Authorization": f"Bearer {key}"}) as response:
            response.raise_for_status()
            for piece in response.iter_raw(1 << 16):
                size += len(piece)
                lines += piece.count(b"\n")
        return Read(time.perf_counter() - began, size, lines)


async def copy_read(dsn: str, sql: str, args: list[Any]) -> Read:
    """COPY (sql) TO STDOUT as CSV with a header, read to its end."""
    connection = await asyncpg.connect(dsn)
    size = lines = 0

    async def sink(piece: bytes) -> None:
        nonlocal size, lines
        size += len(piece)
        lines += piece.count(b"\n")

    try:
        began = time.perf_counter()
        await connection.copy_from_query(sql, *args, output=sink, format="csv", header=True)
        return Read(time.perf_counter() - began, size, lines)
    finally:
        await connection.close()


def the_export_statement(organization_id: int) -> tuple[str, list[Any]]:
    """The statement the server copies for GET /v1/opportunities/export?sort=id."""
    export = opportunity_export(organization_id, ListQuery(sort=Sort("id")))
    return compiled(export.as_text(quote_formulas=True))


def plain_statement(organization_id: int) -> tuple[str, list[Any]]:
    return (f"SELECT * FROM opportunities WHERE organization_id = {int(organization_id)}"
            " ORDER BY id", [])


async def copies_running(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        found: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
            " AND query LIKE 'COPY (SELECT opportunities.id%'")
        return found
    finally:
        await connection.close()


def given_up(base_url: str, key: str, dsn: str) -> int:
    """COPYs of the export still running 3 s after its client closed at 1 MB."""
    with httpx.Client(base_url=base_url, timeout=TIMEOUT_S, trust_env=False) as client, \
            client.stream("GET", PATH, headers={"Authorization": f"Bearer {key}"}) as response:
        read = 0
        for piece in response.iter_raw(1 << 16):
            read += len(piece)
            if read >= 1 << 20:
                break
    time.sleep(3.0)
    return asyncio.run(copies_running(dsn))


def small_file(server: Server, key: str, fmt: str, last_id: int) -> dict[str, float]:
    """Seconds and RSS growth of an xlsx or PDF of the first SMALL_FILE_ROWS rows."""
    sampler = RssSampler(server)
    with sampler.sampling(), httpx.Client(base_url=server.base_url, timeout=TIMEOUT_S,
                                          trust_env=False) as client:
        began = time.perf_counter()
        response = client.get(PATH, params={"format": fmt, "id[lte]": str(last_id)},
                              headers={"Authorization": f"Bearer {key}"})
        response.raise_for_status()
        seconds = time.perf_counter() - began
    return {"seconds": seconds, "bytes": len(response.content), "rss_growth_mb": sampler.growth}


def run(options: Options, *, spec: seed.Spec | None = None) -> Report:
    spec = spec or seed.Spec()
    rounds = max(1, min(options.rounds, ROUNDS_AT_MOST))
    http: list[Read] = []
    copied: list[Read] = []
    plain: list[Read] = []
    with seeded_database(data_dir_for(spec), spec, reseed=False) as (server, seeded, dsn):
        key, org = seeded.api_key, seeded.organization_id
        sql, args = the_export_statement(org)
        first, last = seeded.opportunities
        everything = {"sort": "id"}
        http_read(server.base_url, key, {"id[lte]": str(first + 999)})  # warm-up
        for _ in range(rounds):
            http.append(http_read(server.base_url, key, everything))
            copied.append(asyncio.run(copy_read(dsn, sql, args)))
        plain.append(asyncio.run(copy_read(dsn, *plain_statement(org))))
        memory = {}
        for label, params in (("tenth", {"id[lte]": str(first + (last - first) // 10)}),
                              ("all", everything)):
            sampler = RssSampler(server)
            with sampler.sampling():
                read = http_read(server.base_url, key, params)
            memory[label] = {"rows": read.lines - 1, "before_mb": sampler.before,
                             "peak_mb": sampler.peak, "growth_mb": sampler.growth}
        left_running = given_up(server.base_url, key, dsn)
        small = {fmt: small_file(server, key, fmt, first + SMALL_FILE_ROWS - 1)
                 for fmt in ("xlsx", "pdf")}
    rows = spec.opportunities
    http_s = statistics.median(r.seconds for r in http)
    copy_s = statistics.median(r.seconds for r in copied)
    checks = {
        "same_lines": all(r.lines == rows + 1 for r in [*http, *copied]),
        "same_bytes": all(h.bytes == c.bytes + BOM for h, c in zip(http, copied, strict=True)),
        "memory_flat": memory["all"]["growth_mb"]
        <= memory["tenth"]["growth_mb"] + MEMORY_SLACK_MB,
        "no_copy_left_after_client_gone": left_running == 0,
    }
    found = [
        figure("exports.csv_vs_copy", rows / http_s, "rows/s", baseline=rows / copy_s,
               on="ratio", op=">=", limit=RATIO_TARGET),
        figure("exports.csv_mb_per_s", http[0].bytes / http_s / 1e6, "MB/s"),
        figure("exports.rss_growth_all", memory["all"]["growth_mb"], "MB", op="<=",
               limit=memory["tenth"]["growth_mb"] + MEMORY_SLACK_MB),
        figure("exports.rss_growth_tenth", memory["tenth"]["growth_mb"], "MB"),
        *(figure(f"exports.{fmt}_{SMALL_FILE_ROWS}_rows", found["seconds"], "s")
          for fmt, found in small.items()),
        *(figure(f"exports.check.{name}", 1.0 if ok else 0.0, "bool", op="==", limit=1)
          for name, ok in checks.items()),
    ]
    data: dict[str, Any] = {
        "database_at": where_is(dsn), "rows": rows, "rounds": rounds,
        "http": [asdict(r) for r in http], "copy": [asdict(r) for r in copied],
        "plain_copy": [asdict(r) for r in plain], "memory": memory, "small_files": small,
        "copies_left_running": left_running, "checks": checks,
        "figures": [asdict(f) for f in found]}
    failed = not all(checks.values())
    return Report(name=NAME, text=render(data, found), data=data, failed=failed)


def render(data: dict[str, Any], found: list[Figure]) -> str:
    def median(kind: str) -> float:
        return float(statistics.median(r["seconds"] for r in data[kind]))

    rows = data["rows"]
    http_s, copy_s, plain_s = median("http"), median("copy"), median("plain_copy")
    lines = [
        f"database  {data['database_at']}; {rows:,} opportunities, {data['rounds']} rounds, "
        "medians",
        f"csv over http   {http_s:8.2f} s  {rows / http_s:>12,.0f} rows/s  "
        f"{data['http'][0]['bytes'] / 1e6:,.0f} MB",
        f"copy, same sql  {copy_s:8.2f} s  {rows / copy_s:>12,.0f} rows/s  ratio "
        f"{copy_s / http_s:.2f} (target >= {RATIO_TARGET})",
        f"copy, table     {plain_s:8.2f} s  {rows / plain_s:>12,.0f} rows/s  (for scale)",
    ]
    for label, memory in data["memory"].items():
        lines.append(f"rss, {label:<5} {memory['rows']:>10,} rows: {memory['before_mb']:.0f} MB "
                     f"before, peak {memory['peak_mb']:.0f} MB (+{memory['growth_mb']:.1f})")
    for fmt, small in data["small_files"].items():
        lines.append(f"{fmt:<5} {SMALL_FILE_ROWS:,} rows: {small['seconds']:.2f} s, "
                     f"{small['bytes'] / 1e6:.1f} MB, rss +{small['rss_growth_mb']:.1f} MB")
    lines.append("checks  " + ", ".join(f"{k} {'ok' if v else 'FAILED'}"
                                        for k, v in data["checks"].items()))
    missed = [f.name for f in found if f.met is False]
    if missed:
        lines.append("MISSED  " + ", ".join(missed))
    return "\n".join(lines)
