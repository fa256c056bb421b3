"""quotes: what a quote costs the customer and the seller (issue 14's targets).

A real server (`salescore serve`, its own embedded database) with the per-address rate
limit of the public routes off (`SALESCORE_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE=0`: every
signature comes from 127.0.0.1). An organization made with `salescore create-organization`
gets, through the API with its all-scopes key, a sales process whose second stage marks a
signed quote, a customer, products, a quote template and:

- sent quotes of `LINES` lines each (half of them from products), one per opportunity
  (sending a quote supersedes the opportunity's other unanswered ones);
- one opportunity of `WIDE_LINES` lines.

Reads, one client (latency, not throughput), `--rounds` rounds, medians over rounds:
`GET /v1/quotes/{id}/pdf` of a 20-line quote (target p50 < 50 ms) and the same PDF from its
public link, the customer's page `GET /q/{token}` (target p50 < 10 ms), and
`GET /v1/opportunities/{id}?expand=lines` of the 50-line opportunity against its plain GET
in the same rounds (target: p50 at most 2x the plain one's).

Signing: `CLIENTS` clients at once, each with its own connection, signing quotes of its
own one after another through `POST /v1/public/quotes/{token}/sign`, every effect in the
request (the quote locked and answered, the opportunity moved to the "quote signed"
stage, the signed PDF rendered and stored, the sellers notified, the event): signs a
second and p50 latency (targets >= 50/s and p50 < 100 ms), over `SIGN_ROUNDS` rounds after
a warm-up round; then one client alone (the time of one sign, reported only). Measured on
`serve` (one process) and again on `serve --processes 2`, which gives the second core to
the PDF rendering. Every signed quote is checked afterwards: signed, its opportunity in
the "quote signed" stage, its signed PDF among the opportunity's documents.

An answer that is not the expected one is an error: counted by status, its first bodies
kept, and the run fails."""

import asyncio
import collections
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from bench.load import (
    HttpxLoad,
    Round,
    Summary,
    Target,
    measure,
    percentile,
    process_cpu_seconds,
    warm_up,
)
from bench.report import Figure, Options, Report, figure
from bench.server import Server, Stopped, running_server

NAME = "quotes"
LINES = 20
WIDE_LINES = 50
PRODUCTS = 5
CLIENTS = 16
SIGNS_PER_CLIENT = 8
SIGN_ROUNDS = 3  # at most; fewer if --rounds says so
ALONE_SIGNS = 20
SEED_CONCURRENCY = 16
CHECK_CONCURRENCY = 8
PROCESSES = 2  # the second signing run: `serve --processes 2`
POOL_PER_PROCESS = 16
KEPT_BODIES = 3
PDF_TARGET_MS = 50.0
PAGE_TARGET_MS = 10.0
EXPAND_TARGET_RATIO = 2.0
SIGNS_TARGET = 50.0
SIGN_P50_TARGET_MS = 100.0
# The public routes are limited per client address only; every client here is 127.0.0.1.
SERVER_ENV = {"SALESCORE_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE": "0"}
SIGNED_STAGE = "Quote signed"
STAGES = [{"name": "Lead", "probability": "10.00"},
          {"name": SIGNED_STAGE, "probability": "80.00", "marks_quote_signed": True},
          {"name": "Won", "probability": "100.00", "kind": "won"},
          {"name": "Lost", "probability": "0.00", "kind": "lost"}]
SIGNER = {"name": "Åse Ødegård", "email": "ase@kunde.test"}


@dataclass(frozen=True, slots=True)
class Sent:
    quote_id: int
    opportunity_id: int
    token: str


@dataclass
class Answers:
    """What came back that should not have: counts by request and status, first bodies."""
    counts: collections.Counter[str] = field(default_factory=collections.Counter)
    bodies: list[str] = field(default_factory=list)

    def wrong(self, what: str, status: int | str, body: str) -> None:
        key = f"{what} -> {status}"
        self.counts[key] += 1
        if self.counts[key] <= KEPT_BODIES:
            self.bodies.append(f"{key}: {body[:500]}")

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "counts": dict(self.counts), "bodies": self.bodies}


class Seller:
    """The organization's API, as its all-scopes key."""

    def __init__(self, client: httpx.AsyncClient, owner_id: int) -> None:
        self.client = client
        self.owner_id = owner_id
        self.customer_id = 0
        self.template_id = 0
        self.signed_stage_id = 0
        self.product_ids: list[int] = []

    async def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.post(path, json=body)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:500]}")
        answer: dict[str, Any] = response.json()
        return answer

    async def set_up(self) -> None:
        process = await self.post("/v1/sales-processes", {
            "name": "Bench process", "stages": STAGES, "default_for": {"all": True}})
        self.signed_stage_id = next(s["id"] for s in process["stages"]
                                    if s["name"] == SIGNED_STAGE)
        self.customer_id = (await self.post("/v1/customers", {
            "name": "Ærlig Østbø AS", "email": "post@ostbo.test"}))["id"]
        for n in range(PRODUCTS):
            self.product_ids.append((await self.post("/v1/products", {
                "sku": f"BENCH-{n + 1}", "name": f"Lisens Nordlys {n + 1}",
                "description": "Årlig lisens, per bruker", "unit_price": f"{990 + 10 * n}.00",
                "unit_cost": "400.00"}))["id"])
        self.template_id = (await self.post("/v1/quote-templates", {
            "name": "Bench template", "header_text": "Dear customer,\nour offer:",
            "footer_text": "Bench AS, Storgata 1, 0155 Oslo",
            "terms": "Net 30 days. Prices in NOK excluding VAT."}))["id"]

    def line(self, n: int) -> dict[str, Any]:
        if n % 2:
            return {"product_id": self.product_ids[n % PRODUCTS], "quantity": str(n % 7 + 1)}
        return {"name": f"Konsulenttime Åsen {n + 1}", "description": "Rådgivning på stedet",
                "quantity": "2.5", "unit_price": "1250.00", "discount_percent": "5"}

    async def opportunity(self, lines: int) -> int:
        made = await self.post("/v1/opportunities", {
            "name": "Bench deal", "customer_id": self.customer_id, "owner_id": self.owner_id,
            "amount_source": "lines"})
        for n in range(lines):
            await self.post(f"/v1/opportunities/{made['id']}/lines", self.line(n))
        opportunity_id: int = made["id"]
        return opportunity_id

    async def sent_quote(self, lines: int) -> Sent:
        opportunity_id = await self.opportunity(lines)
        draft = await self.post(f"/v1/opportunities/{opportunity_id}/quotes", {
            "template_id": self.template_id,
            "valid_until": str(date.today() + timedelta(days=30))})
        sent = await self.post(f"/v1/quotes/{draft['id']}/send")
        return Sent(quote_id=sent["id"], opportunity_id=opportunity_id,
                    token=str(sent["public_url"]).rsplit("/", 1)[1])


@dataclass(frozen=True, slots=True)
class World:
    key: dict[str, str]
    signed_stage_id: int
    sent: list[Sent]
    wide_id: int | None
    seconds: float


def seed(server: Server, name: str, quotes: int, *, wide: bool) -> World:
    """A new organization (`salescore create-organization`) and, through the API,
    `quotes` sent quotes (SEED_CONCURRENCY at a time) and, if `wide`, the wide opportunity."""
    org = server.create_organization(f"Bench {name} AS", admin_email=f"{name}@bench.test",
                                     admin_password="benchpassword")
    key = {"Authorization": f"Bearer {org.api_key}"}

    async def seeding() -> World:
        began = time.perf_counter()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60.0,
                                     trust_env=False, headers=key) as client:
            seller = Seller(client, org.user_id)
            await seller.set_up()
            gate = asyncio.Semaphore(SEED_CONCURRENCY)

            async def one() -> Sent:
                async with gate:
                    return await seller.sent_quote(LINES)

            sent = await asyncio.gather(*(one() for _ in range(quotes)))
            wide_id = await seller.opportunity(WIDE_LINES) if wide else None
        return World(key=key, signed_stage_id=seller.signed_stage_id, sent=list(sent),
                     wide_id=wide_id, seconds=time.perf_counter() - began)

    return asyncio.run(seeding())


# -- reads -------------------------------------------------------------------------------

def read_targets(world: World) -> list[Target]:
    quote = world.sent[0]
    return [Target("quote_pdf", f"/v1/quotes/{quote.quote_id}/pdf", world.key),
            Target("public_pdf", f"/v1/public/quotes/{quote.token}/pdf"),
            Target("page", f"/q/{quote.token}"),
            Target("opportunity", f"/v1/opportunities/{world.wide_id}", world.key),
            Target("opportunity_lines", f"/v1/opportunities/{world.wide_id}?expand=lines",
                   world.key)]


CONTENT = {"quote_pdf": "application/pdf", "public_pdf": "application/pdf",
           "page": "text/html", "opportunity": "application/json",
           "opportunity_lines": "application/json"}


def look(server: Server, targets: Sequence[Target], answers: Answers) -> dict[str, Any]:
    """One answer of each target, checked: its status, type and content; and what the
    measured ones carry (bytes, lines)."""
    seen: dict[str, Any] = {}
    with httpx.Client(base_url=server.base_url, timeout=30.0, trust_env=False) as client:
        for target in targets:
            response = client.get(target.path, headers=dict(target.headers))
            kind = response.headers.get("content-type", "")
            seen[target.name] = {"status": response.status_code, "bytes": len(response.content),
                                 "content_type": kind}
            if response.status_code != target.expect:
                answers.wrong(f"GET {target.name}", response.status_code, response.text)
            elif not kind.startswith(CONTENT[target.name]):
                answers.wrong(f"GET {target.name}", f"{response.status_code} {kind}",
                              response.text)
            elif kind.startswith("application/pdf") and not response.content.startswith(
                    b"%PDF"):
                answers.wrong(f"GET {target.name}", "not a PDF", repr(response.content[:80]))
            elif target.name == "opportunity_lines":
                seen[target.name]["lines"] = len(response.json().get("lines") or [])
                if seen[target.name]["lines"] != WIDE_LINES:
                    answers.wrong("GET opportunity_lines", "lines missing", response.text)
    return seen


def reads_on(server: Server, options: Options,
             answers: Answers) -> tuple[list[Summary], dict[str, Any], World]:
    world = seed(server, "reads", 1, wide=True)
    targets = read_targets(world)
    seen = look(server, targets, answers)
    load = HttpxLoad(connections=1, requests=max(50, options.requests // 50))
    warm_up(load, server.base_url, targets)
    summaries = measure(load, server.base_url, targets, options.rounds,
                        server_pid=server.process.pid)
    return summaries, seen, world


# -- signing ------------------------------------------------------------------------------

async def sign_round(base_url: str, sent: Sequence[Sent], clients: int, answers: Answers,
                     server_pid: int | None) -> Round:
    """`clients` clients at once, each with its own connection and its own quotes."""
    latencies: list[float] = []
    errors = 0
    shares = [sent[n::clients] for n in range(clients)]

    async def client_signing(own: Sequence[Sent]) -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base_url, timeout=60.0, trust_env=False,
                                     limits=httpx.Limits(max_connections=1)) as client:
            for quote in own:
                began = time.perf_counter()
                try:
                    response = await client.post(f"/v1/public/quotes/{quote.token}/sign",
                                                 json=SIGNER)
                except httpx.HTTPError as error:
                    latencies.append(time.perf_counter() - began)
                    errors += 1
                    answers.wrong("POST sign", type(error).__name__, str(error))
                    continue
                latencies.append(time.perf_counter() - began)
                if response.status_code != 200:
                    errors += 1
                    answers.wrong("POST sign", response.status_code, response.text)

    cpu = process_cpu_seconds(server_pid) if server_pid else 0.0
    client_cpu, began = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client_signing(own) for own in shares))
    seconds = time.perf_counter() - began
    client_cpu = time.process_time() - client_cpu
    server_cpu = (process_cpu_seconds(server_pid) - cpu) / seconds if server_pid else None
    latencies.sort()
    return Round(requests=len(latencies), errors=errors, seconds=seconds,
                 p50_ms=percentile(latencies, 50) * 1e3,
                 p99_ms=percentile(latencies, 99) * 1e3, client_cpu=client_cpu / seconds,
                 server_cpu=server_cpu)


async def check_signed(base_url: str, world: World, signed: Sequence[Sent],
                       answers: Answers) -> int:
    """Every effect of each signature, through the API: how many quotes had them all."""
    gate = asyncio.Semaphore(CHECK_CONCURRENCY)
    good = 0

    async def one(client: httpx.AsyncClient, quote: Sent) -> None:
        nonlocal good
        async with gate:
            got = [await client.get(path) for path in (
                f"/v1/quotes/{quote.quote_id}", f"/v1/opportunities/{quote.opportunity_id}",
                f"/v1/opportunities/{quote.opportunity_id}/documents")]
        for response in got:
            if response.status_code != 200:
                answers.wrong(f"GET {response.url.path}", response.status_code, response.text)
                return
        quote_read, opportunity, documents = (response.json() for response in got)
        missing = [what for what, ok in (
            ("status signed", quote_read["status"] == "signed"),
            ("signer", quote_read["signed_by_name"] == SIGNER["name"]),
            ("quote signed stage", opportunity["stage_id"] == world.signed_stage_id),
            ("signed PDF", any(d["kind"] == "signed_quote" and d["quote_id"] == quote.quote_id
                               and d["size"] > 0 for d in documents["data"])))
            if not ok]
        if missing:
            answers.wrong("signed quote", "effects missing", f"quote {quote.quote_id}: "
                          f"{', '.join(missing)}")
        else:
            good += 1

    async with httpx.AsyncClient(base_url=base_url, timeout=30.0, trust_env=False,
                                 headers=world.key) as client:
        await asyncio.gather(*(one(client, quote) for quote in signed))
    return good


@dataclass(frozen=True, slots=True)
class Signing:
    processes: int
    crowd: Summary
    alone: Summary | None
    quotes_checked: int
    quotes_with_every_effect: int
    seed_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"processes": self.processes, "clients": CLIENTS,
                "signs_per_client_per_round": SIGNS_PER_CLIENT,
                "crowd": self.crowd.as_dict() | {"signs_per_s": self.crowd.ok_rps},
                "alone": self.alone.as_dict() if self.alone else None,
                "quotes_checked": self.quotes_checked,
                "quotes_with_every_effect": self.quotes_with_every_effect,
                "seed_seconds": self.seed_seconds}


def signing_on(server: Server, processes: int, rounds: int, answers: Answers) -> Signing:
    """A warm-up round, `rounds` rounds of CLIENTS clients, then (one process only) one
    client alone; every quote signed is checked after. The server's CPU is sampled with
    one process (with more, it is spread over the workers)."""
    per_round = CLIENTS * SIGNS_PER_CLIENT
    alone = ALONE_SIGNS if processes == 1 else 0
    world = seed(server, f"signing{processes}", CLIENTS + rounds * per_round + alone,
                 wide=False)
    pid = server.process.pid if processes == 1 else None
    warm, rest = world.sent[:CLIENTS], world.sent[CLIENTS:]

    async def signing() -> tuple[list[Round], Round | None, int]:
        await sign_round(server.base_url, warm, CLIENTS, answers, pid)
        crowd = [await sign_round(server.base_url, rest[n * per_round:(n + 1) * per_round],
                                  CLIENTS, answers, pid) for n in range(rounds)]
        one = (await sign_round(server.base_url, rest[rounds * per_round:], 1, answers, pid)
               if alone else None)
        good = await check_signed(server.base_url, world, world.sent, answers)
        return crowd, one, good

    crowd, one, good = asyncio.run(signing())
    return Signing(processes=processes, crowd=Summary(f"sign_{processes}p", tuple(crowd)),
                   alone=Summary(f"sign_alone_{processes}p", (one,)) if one else None,
                   quotes_checked=len(world.sent), quotes_with_every_effect=good,
                   seed_seconds=world.seconds)


# -- the run ------------------------------------------------------------------------------

def stop_data(stopped: Stopped | None) -> dict[str, Any]:
    assert stopped is not None
    return {"exit_code": stopped.exit_code, "seconds": stopped.seconds,
            "killed": stopped.killed, "database_left_running": stopped.database_left_running,
            "log_problems": list(stopped.log_problems)}


def run(options: Options) -> Report:
    answers = Answers()
    rounds = max(1, min(options.rounds, SIGN_ROUNDS))
    began = time.perf_counter()
    with running_server(env=SERVER_ENV) as server:
        summaries, seen, reads_world = reads_on(server, options, answers)
        signings = [signing_on(server, 1, rounds, answers)]
    stops = [stop_data(server.stopped)]
    with running_server("--processes", str(PROCESSES), env=SERVER_ENV | {
            "SALESCORE_DB_POOL_SIZE": str(POOL_PER_PROCESS)}) as server:
        signings.append(signing_on(server, PROCESSES, rounds, answers))
    stops.append(stop_data(server.stopped))
    found = figures(summaries, signings)
    data: dict[str, Any] = {
        "lines": LINES, "wide_lines": WIDE_LINES, "clients": CLIENTS,
        "rounds": options.rounds, "sign_rounds": rounds,
        "load": HttpxLoad(connections=1, requests=max(50, options.requests // 50)).description,
        "server_env": SERVER_ENV, "reads_seed_seconds": reads_world.seconds,
        "first_answers": seen,
        "reads": {s.name: s.as_dict() for s in summaries},
        "signing": [s.as_dict() for s in signings],
        "unexpected_answers": answers.as_dict(),
        "servers_stop": stops, "seconds": time.perf_counter() - began,
        "figures": [asdict(f) for f in found],
    }
    failed = (answers.total > 0 or any(s.errors for s in summaries)
              or any(s.crowd.errors or (s.alone and s.alone.errors) for s in signings)
              or any(s.quotes_with_every_effect != s.quotes_checked for s in signings)
              or any(stop["exit_code"] != 0 or stop["killed"] for stop in stops))
    return Report(name=NAME, text=render(data, summaries, signings, found), data=data,
                  failed=failed)


def figures(summaries: list[Summary], signings: list[Signing]) -> list[Figure]:
    by = {s.name: s for s in summaries}
    plain, lines = by["opportunity"].p50_ms, by["opportunity_lines"].p50_ms
    found = [
        figure("quotes.pdf_20_lines_p50", by["quote_pdf"].p50_ms, "ms", op="<",
               limit=PDF_TARGET_MS),
        figure("quotes.public_pdf_20_lines_p50", by["public_pdf"].p50_ms, "ms"),
        figure("quotes.page_p50", by["page"].p50_ms, "ms", op="<", limit=PAGE_TARGET_MS),
        figure("quotes.expand_lines_50_p50", lines, "ms", baseline=plain,
               ratio=lines / plain if plain else None, on="ratio", op="<=",
               limit=EXPAND_TARGET_RATIO),
    ]
    for signing in signings:
        p = f"{signing.processes}p"
        found += [figure(f"quotes.signs_per_s_{CLIENTS}c_{p}", signing.crowd.ok_rps, "1/s",
                         op=">=", limit=SIGNS_TARGET),
                  figure(f"quotes.sign_p50_{CLIENTS}c_{p}", signing.crowd.p50_ms, "ms",
                         op="<", limit=SIGN_P50_TARGET_MS),
                  figure(f"quotes.sign_p99_{CLIENTS}c_{p}", signing.crowd.p99_ms, "ms")]
        if signing.alone:
            found.append(figure(f"quotes.sign_p50_1c_{p}", signing.alone.p50_ms, "ms"))
    return found


def _cpu(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def render(data: dict[str, Any], summaries: list[Summary], signings: list[Signing],
           found: list[Figure]) -> str:
    lines = [f"tool      {data['load']}; {data['rounds']} rounds, medians over rounds",
             f"server    serve with {data['server_env']}; reads seeded in "
             f"{data['reads_seed_seconds']:.1f} s",
             "",
             f"reads, one client ({LINES}-line quote, {WIDE_LINES}-line opportunity)",
             f"{'endpoint':<20}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}{'errors':>8}"
             f"{'server CPU':>12}{'bytes':>9}"]
    lines += [f"{s.name:<20}{s.p50_ms:>9.2f}{s.p99_ms:>9.2f}{s.requests:>10}{s.errors:>8}"
              f"{_cpu(s.server_cpu):>12}{data['first_answers'][s.name]['bytes']:>9}"
              for s in summaries]
    lines += ["", f"signing, {CLIENTS} clients at once, {SIGNS_PER_CLIENT} signs each a round "
              f"({data['sign_rounds']} rounds after a warm-up), then 1 client alone; "
              f"{LINES}-line quotes",
              f"{'server':<22}{'clients':>8}{'signs/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
              f"{'signs':>7}{'errors':>8}{'server CPU':>12}{'effects ok':>12}{'seeded':>8}"]
    for s in signings:
        runs = [(CLIENTS, s.crowd), *([(1, s.alone)] if s.alone else [])]
        for clients, summary in runs:
            lines.append(f"{f'serve, {s.processes} process(es)':<22}{clients:>8}"
                         f"{summary.ok_rps:>9.1f}{summary.p50_ms:>9.1f}{summary.p99_ms:>9.1f}"
                         f"{summary.requests:>7}{summary.errors:>8}"
                         f"{_cpu(summary.server_cpu):>12}"
                         f"{f'{s.quotes_with_every_effect}/{s.quotes_checked}':>12}"
                         f"{f'{s.seed_seconds:.0f} s':>8}")
    unexpected = data["unexpected_answers"]
    lines += ["", f"unexpected answers: {unexpected['total']}"]
    lines += [f"  {what}: {count}" for what, count in unexpected["counts"].items()]
    lines += [f"  {body}" for body in unexpected["bodies"]]
    lines += ["", "targets"]
    for f in found:
        shown = f.ratio if f.target and f.target.startswith("ratio") else f.value
        verdict = "-" if f.met is None else "ok" if f.met else "MISSED"
        lines.append(f"  {f.name:<30}{shown or 0.0:>9.2f}  ({f.target or 'reported'})  "
                     f"{verdict}")
    for n, stop in enumerate(data["servers_stop"]):
        lines += ["", f"server {n + 1}  exit code {stop['exit_code']} {stop['seconds']:.2f} s "
                  f"after SIGINT{' (killed)' if stop['killed'] else ''}; "
                  f"{len(stop['log_problems'])} warning/error lines in its log"]
        lines += [f"          {line}" for line in stop["log_problems"][:10]]
    return "\n".join(lines)
