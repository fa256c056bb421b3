"""A large, realistic opportunities data set for the benchmarks, written straight to
PostgreSQL: `python -m bench.seed [--reseed] [--opportunities N]`.

One organization is made the normal way (`salescore create-organization`); into it go
199 more users (200 in all), 5 sales processes of 6 stages each (open at 10/25/50/75 %, one
won, one lost), 20,000 customers and 1,000,000 opportunities with one seller each (the
owner, 100.00). Customers and opportunities are streamed with COPY in text format, ids
included: COPY, unlike INSERT, accepts values for a GENERATED ALWAYS identity column, so
no temporary table is needed, and the identity sequences are moved past the ids after.
The sellers are derived in the database (INSERT ... SELECT), and so are the
opportunity_history and opportunity_seller_history rows each opportunity gets: the insert
triggers are off for the load and one INSERT ... SELECT each writes what they would have,
with valid_from = created_at (as if each had been inserted in its present state when it
was created; the triggers would say now()).
As pg_restore does, the secondary indexes and foreign keys of those tables are dropped for
the load and re-created after it (each foreign key re-validated in one pass); then VACUUM
ANALYZE. All of it is one transaction. Dropping nothing takes 2.5 times as long.

Names come from word lists so that `q=AS%` and `q=%nord%` each match some rows but not
most. The random generator is seeded: the same spec gives the same data.

A seed is kept: the marker table `bench_seed` holds the spec, a hash of each migration
file the schema was built from, and the organization's credentials. A later run whose spec
and migrations match reuses the data; otherwise (or with `--reseed`) the `public` schema
is dropped and built again, which is only done to a database this module made or whose
`organizations` table is empty."""

import argparse
import asyncio
import hashlib
import json
import random
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench.server import ROOT, Server

MIGRATIONS = ROOT / "migrations" / "versions"
SEED_VERSION = 3
EMAIL, PASSWORD = "bench-admin@bench.test", "benchpassword"
CHUNK_ROWS = 20_000
TODAY = date(2026, 11, 23)  # fixed, so that a seed is the same data whenever it is made
OPEN_PROBABILITIES = (10, 25, 50, 75)
STAGE_NAMES = ("Første kontakt", "Kontakt etablert", "Tilbud sendt", "Muntlig aksept",
               "Kontrakt signert", "Tapt")
PROCESS_NAMES = ("Standard salg", "Prosjektsalg", "Rammeavtaler", "Partnersalg",
                 "Fornyelser")

PLACES = ("Bergen", "Oslo", "Trondheim", "Stavanger", "Tromsø", "Bodø", "Ålesund",
          "Drammen", "Asker", "Askøy", "Moss", "Hamar", "Molde", "Narvik", "Kristiansand",
          "Fredrikstad", "Haugesund", "Arendal", "Lillehammer", "Gjøvik", "Harstad", "Alta",
          "Kongsberg", "Larvik", "Sandnes", "Voss", "Røros", "Nordkapp", "Nordland",
          "Førde", "Steinkjer", "Halden", "Kristiansund", "Mo", "Sogndal", "Vestby")
TRADES = ("Nord", "Bygg", "Elektro", "Rør", "Transport", "Data", "Regnskap", "Eiendom",
          "Marine", "Fisk", "Energi", "Maskin", "Consult", "Handel", "Media", "Sør", "Vest",
          "Øst", "Midt", "Industri", "Service", "Invest", "Logistikk", "Helse")
SUFFIXES = ("AS", "AS", "AS", "AS", "AS", "ASA", "AB", "ApS", "Oy", "ANS", "DA",
            "Gruppen AS")
BRANDS = ("Nordic", "Nordlys", "Polar", "Fjord", "Aurora", "Viking", "Aspen", "Kyst",
          "Fjell", "Havbris", "Midnattsol", "Nordavind", "Bris", "Atlas", "Tinde")
PRODUCTS = ("CRM-lisenser", "Rammeavtale", "Serviceavtale", "Lisensfornyelse",
            "Konsulenttimer", "Oppgradering", "Utvidelse", "Pilotprosjekt", "Opplæring",
            "Support", "Integrasjon", "Migrering", "Skyløsning", "Maskinvare",
            "Vedlikehold", "Assistanse", "Analyse", "Driftsavtale")
DESCRIPTIONS = ("Kunden ønsker tilbud før jul.", "Oppfølging etter messe.",
                "Utrulling i region Nord.", "Nordisk lansering i tre land.",
                "Felles innkjøp for Norden.", "Avklares med innkjøpssjef.",
                "Budsjett godkjent for neste år.", "Konkurrent er inne med lavere pris.",
                "Ønsker referansebesøk.", "Behov for integrasjon mot ERP.",
                "Kontrakten løper ut i vår.", "Pilot i avdeling Sør først.",
                "Beslutning tas i styremøtet.", "Må ha demo for ledergruppen.")
FIRST_NAMES = ("Kari", "Ola", "Ingrid", "Lars", "Sofie", "Henrik", "Nora", "Erik", "Emma",
               "Jonas", "Maja", "Sander", "Ida", "Magnus", "Thea", "Anders", "Sara",
               "Kristian", "Hanne", "Per")
LAST_NAMES = ("Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen",
              "Kristiansen", "Jensen", "Karlsen", "Berg", "Haugen", "Dahl", "Lund",
              "Nordmann", "Strand", "Eide", "Solberg", "Bakke", "Moen")
for _word in (*PLACES, *TRADES, *SUFFIXES, *BRANDS, *PRODUCTS, *DESCRIPTIONS):
    assert not set(_word) & {"\t", "\n", "\\"}, "COPY text needs no escapes"


@dataclass(frozen=True, slots=True)
class Spec:
    opportunities: int = 1_000_000
    users: int = 200
    customers: int = 20_000
    processes: int = 5
    random_seed: int = 20261123
    version: int = SEED_VERSION


@dataclass(frozen=True, slots=True)
class Seeded:
    """What a benchmark needs to know about a seed, as kept in `bench_seed`."""
    organization_id: int
    admin_user_id: int
    email: str
    password: str
    api_key: str
    users: tuple[int, int]  # first and last id of the copied users (contiguous)
    customers: tuple[int, int]
    opportunities: tuple[int, int]
    default_process_id: int
    seconds: float
    rows: int
    phases: dict[str, float] = field(default_factory=dict)
    reused: bool = False

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def migration_hashes() -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(MIGRATIONS.glob("*.py"))}


def matches(stored: dict[str, Any], spec: Spec) -> bool:
    """The stored seed was made from this spec, and every migration it was built from is
    unchanged (migrations added since are applied on top by the server)."""
    now = migration_hashes()
    return (stored.get("spec") == asdict(spec)
            and all(now.get(name) == digest for name, digest in stored["migrations"].items()))


MARKER_DDL = """CREATE TABLE IF NOT EXISTS bench_seed (
    id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1), info jsonb)"""


async def prepare(dsn: str, spec: Spec, *, reseed: bool) -> Seeded | None:
    """The seed to reuse, or None after emptying the database for a new one (the schema
    is then made by the server's own migration on start)."""
    connection = await asyncpg.connect(dsn)
    try:
        marked = await connection.fetchval("SELECT to_regclass('bench_seed') IS NOT NULL")
        stored = await connection.fetchval("SELECT info FROM bench_seed") if marked else None
        if stored is not None and not reseed:
            info = json.loads(stored)
            if matches(info, spec):
                return seeded_from(info)
        has_orgs = await connection.fetchval(
            "SELECT to_regclass('organizations') IS NOT NULL")
        if has_orgs and not marked and await connection.fetchval(
                "SELECT EXISTS (SELECT FROM organizations)"):
            raise RuntimeError("this database holds organizations that the bench did not "
                               "make: give the bench a database of its own")
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public; "
                                 + MARKER_DDL)
        return None
    finally:
        await connection.close()


PHASES = ("create_organization", "users_processes_customers",
          "drop_indexes_and_foreign_keys", "copy_opportunities", "insert_sellers",
          "insert_history", "insert_seller_history", "recreate_indexes_and_foreign_keys",
          "commit", "vacuum_analyze")


def seeded_from(info: dict[str, Any]) -> Seeded:
    values = dict(info["seeded"])
    values["phases"] = {name: values["phases"][name] for name in PHASES
                        if name in values["phases"]}  # jsonb keeps no key order
    for key in ("users", "customers", "opportunities"):
        values[key] = tuple(values[key])
    return Seeded(**{**values, "reused": True})


def seed(server: Server, dsn: str, spec: Spec) -> Seeded:
    """Seed an emptied, migrated database through a running server (see `prepare`)."""
    began = time.perf_counter()
    org = server.create_organization("Bench Nordic AS", admin_email=EMAIL,
                                     admin_password=PASSWORD)
    made = time.perf_counter() - began
    return asyncio.run(_load(dsn, spec, org.organization_id, org.user_id, org.api_key,
                             began=began, phases={"create_organization": made}))


async def _load(dsn: str, spec: Spec, org_id: int, admin_id: int, api_key: str, *,
                began: float, phases: dict[str, float]) -> Seeded:
    rng = random.Random(spec.random_seed)
    connection = await asyncpg.connect(dsn)
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        phases[name], clock = now - clock, now

    try:
        await connection.execute("SET synchronous_commit = off; "
                                 "SET maintenance_work_mem = '256MB'")
        async with connection.transaction():
            user_ids = await _users(connection, rng, org_id, spec.users - 1)
            stages = await _processes(connection, org_id, admin_id, spec.processes)
            first_customer = await _next_id(connection, "customers")
            await connection.copy_to_table(
                "customers", source=_chunks(customer_lines(
                    rng, org_id, first_customer, spec.customers, user_ids)),
                columns=CUSTOMER_COLUMNS)
            customers = (first_customer, first_customer + spec.customers - 1)
            lap("users_processes_customers")
            history = await connection.fetchval(
                "SELECT to_regclass('opportunity_history') IS NOT NULL")
            seller_history = await connection.fetchval(
                "SELECT to_regclass('opportunity_seller_history') IS NOT NULL")
            dropped = await _drop_for_load(connection, history=history,
                                           seller_history=seller_history)
            if history:
                await connection.execute(f"ALTER TABLE opportunities DISABLE TRIGGER {TRIGGER}")
            if seller_history:
                await connection.execute(
                    f"ALTER TABLE opportunity_sellers DISABLE TRIGGER {SELLER_TRIGGER}")
            lap("drop_indexes_and_foreign_keys")
            first_opp = await _next_id(connection, "opportunities")
            await connection.copy_to_table(
                "opportunities", source=_chunks(opportunity_lines(
                    rng, org_id, first_opp, spec.opportunities, customers, user_ids,
                    stages, TODAY)),
                columns=OPPORTUNITY_COLUMNS)
            lap("copy_opportunities")
            await connection.execute(
                "INSERT INTO opportunity_sellers (organization_id, opportunity_id, user_id,"
                " share, added_seq) SELECT organization_id, id, owner_id, 100.00, 0"
                " FROM opportunities WHERE organization_id = $1 AND id >= $2", org_id,
                first_opp)
            lap("insert_sellers")
            if history:
                await connection.execute(HISTORY, org_id, first_opp)
                await connection.execute(f"ALTER TABLE opportunities ENABLE TRIGGER {TRIGGER}")
                lap("insert_history")
            if seller_history:
                await connection.execute(SELLER_HISTORY, org_id, first_opp)
                await connection.execute(
                    f"ALTER TABLE opportunity_sellers ENABLE TRIGGER {SELLER_TRIGGER}")
                lap("insert_seller_history")
            for statement in dropped:
                await connection.execute(statement)
            lap("recreate_indexes_and_foreign_keys")
            for table in ("users", "customers", "opportunities"):
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT max(id) FROM {table}))")
        lap("commit")
        await connection.execute("VACUUM ANALYZE users, customers, sales_processes, stages,"
                                 " opportunities, opportunity_sellers"
                                 + ", opportunity_history" * history
                                 + ", opportunity_seller_history" * seller_history)
        lap("vacuum_analyze")
        seeded = Seeded(
            organization_id=org_id, admin_user_id=admin_id, email=EMAIL, password=PASSWORD,
            api_key=api_key, users=(user_ids[0], user_ids[-1]), customers=customers,
            opportunities=(first_opp, first_opp + spec.opportunities - 1),
            default_process_id=stages[0][0], seconds=time.perf_counter() - began,
            rows=spec.users + spec.customers
            + (2 + history + seller_history) * spec.opportunities,
            phases=phases)
        info = {"spec": asdict(spec), "migrations": migration_hashes(),
                "seeded": {k: v for k, v in asdict(seeded).items() if k != "reused"}}
        await connection.execute(MARKER_DDL)
        await connection.execute("INSERT INTO bench_seed (info) VALUES ($1) ON CONFLICT (id)"
                                 " DO UPDATE SET info = excluded.info", json.dumps(info))
        return seeded
    finally:
        await connection.close()


async def _next_id(connection: asyncpg.Connection, table: str) -> int:
    found: int = await connection.fetchval(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
    return found


async def _chunks(lines: Iterator[str]) -> AsyncIterator[bytes]:
    """COPY input in pieces of CHUNK_ROWS lines, so the database parses one piece while
    the next is generated."""
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) == CHUNK_ROWS:
            yield "".join(batch).encode()
            batch.clear()
            await asyncio.sleep(0)
    if batch:
        yield "".join(batch).encode()


async def _users(connection: asyncpg.Connection, rng: random.Random, org_id: int,
                 count: int) -> list[int]:
    names = [f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(count)]
    rows = await connection.fetch(
        "INSERT INTO users (organization_id, name, initials, email, role)"
        " SELECT $1, name, initials, email, 'seller'"
        " FROM unnest($2::text[], $3::text[], $4::text[]) AS u (name, initials, email)"
        " ORDER BY email RETURNING id", org_id, names,
        ["".join(part[0] for part in name.split()) for name in names],
        [f"seller{n:03}@bench.test" for n in range(1, count + 1)])
    ids = sorted(row["id"] for row in rows)
    assert ids == list(range(ids[0], ids[0] + count)), "user ids are contiguous"
    return ids


async def _processes(connection: asyncpg.Connection, org_id: int, admin_id: int,
                     count: int) -> list["Process"]:
    """Per process: its id, its open stages as (id, probability), its won and lost stage.
    The first is the default for all."""
    made = []
    for number in range(count):
        process_id: int = await connection.fetchval(
            "INSERT INTO sales_processes (organization_id, name, default_for_all,"
            " created_by, updated_by) VALUES ($1, $2, $3, $4, $4) RETURNING id",
            org_id, PROCESS_NAMES[number % len(PROCESS_NAMES)] + (
                f" {number // len(PROCESS_NAMES) + 1}" if number >= len(PROCESS_NAMES)
                else ""), number == 0, admin_id)
        kinds = ["open"] * len(OPEN_PROBABILITIES) + ["won", "lost"]
        probabilities = [*OPEN_PROBABILITIES, 100, 0]
        rows = await connection.fetch(
            "INSERT INTO stages (organization_id, sales_process_id, name, position,"
            " probability, kind) SELECT $1, $2, name, position, probability, kind"
            " FROM unnest($3::text[], $4::int[], $5::numeric[], $6::text[])"
            " AS s (name, position, probability, kind) ORDER BY position"
            " RETURNING id, probability, kind", org_id, process_id, list(STAGE_NAMES),
            list(range(1, 7)), probabilities, kinds)
        opens = [(row["id"], int(row["probability"])) for row in rows if row["kind"] == "open"]
        won = next(row["id"] for row in rows if row["kind"] == "won")
        lost = next(row["id"] for row in rows if row["kind"] == "lost")
        made.append((process_id, sorted(opens, key=lambda s: s[1]), won, lost))
    return made


TRIGGER = "tr_opportunities_history_insert"
# What that trigger would write, for all rows at once, as if each opportunity had been
# inserted in its present state when it was created (the trigger would say: now).
HISTORY = """INSERT INTO opportunity_history (organization_id, opportunity_id, version,
    valid_from, status, sales_process_id, stage_id, owner_id, customer_id, campaign_id,
    source_id, type_id, amount, currency, probability, weighted_amount, expected_close_date,
    closed_at, loss_reason_id, created_at)
    SELECT organization_id, id, version, created_at, status, sales_process_id, stage_id,
    owner_id, customer_id, campaign_id, source_id, type_id, amount, currency, probability,
    weighted_amount, expected_close_date, closed_at, loss_reason_id, created_at
    FROM opportunities WHERE organization_id = $1 AND id >= $2"""


SELLER_TRIGGER = "tr_opportunity_sellers_history_insert"
# And what the sellers' trigger would write: each share held since its opportunity began.
SELLER_HISTORY = """INSERT INTO opportunity_seller_history (organization_id, opportunity_id,
    user_id, share, valid_from)
    SELECT s.organization_id, s.opportunity_id, s.user_id, s.share, o.created_at
    FROM opportunity_sellers s JOIN opportunities o ON o.organization_id = s.organization_id
    AND o.id = s.opportunity_id WHERE s.organization_id = $1 AND s.opportunity_id >= $2"""


async def _drop_for_load(connection: asyncpg.Connection, *, history: bool,
                         seller_history: bool) -> list[str]:
    """Drop the secondary indexes and foreign keys of the big tables; the statements that
    put them back, indexes first."""
    tables = ["opportunities", "opportunity_sellers", *(["opportunity_history"] * history),
              *(["opportunity_seller_history"] * seller_history)]
    indexes = await connection.fetch(
        "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS ddl"
        " FROM pg_index i WHERE i.indrelid = ANY($1::regclass[]) AND NOT EXISTS ("
        " SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid"
        " AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))", tables)
    keys = await connection.fetch(
        "SELECT conrelid::regclass::text AS tab, conname AS name,"
        " pg_get_constraintdef(oid) AS ddl FROM pg_constraint"
        " WHERE conrelid = ANY($1::regclass[]) AND contype = 'f'", tables)
    for key in keys:
        await connection.execute(f'ALTER TABLE {key["tab"]} DROP CONSTRAINT "{key["name"]}"')
    for index in indexes:
        await connection.execute(f"DROP INDEX {index['name']}")
    return ([index["ddl"] for index in indexes]
            + [f'ALTER TABLE {key["tab"]} ADD CONSTRAINT "{key["name"]}" {key["ddl"]}'
               for key in keys])


CUSTOMER_COLUMNS = ("organization_id", "id", "name", "org_number", "email", "status",
                    "owner_id")
OPPORTUNITY_COLUMNS = ("organization_id", "id", "name", "description", "customer_id",
                       "owner_id", "sales_process_id", "stage_id", "last_open_stage_id",
                       "status", "amount", "currency", "probability", "expected_close_date",
                       "follow_up_date", "closed_at", "created_at", "created_by",
                       "updated_at", "updated_by")
Process = tuple[int, list[tuple[int, int]], int, int]
NULL = "\\N"


def customer_lines(rng: random.Random, org_id: int, first_id: int, count: int,
                   user_ids: list[int]) -> Iterator[str]:
    """"Bergen Nord AS", "Nordlys Energi ASA", "Askøy Rør AS": about 1 in 8 holds "nord",
    1 in 18 starts with "As"."""
    for n in range(count):
        first = rng.choice(BRANDS) if rng.random() < 0.15 else rng.choice(PLACES)
        name = f"{first} {rng.choice(TRADES)} {rng.choice(SUFFIXES)}"
        email = f"post{first_id + n}@kunde.test" if rng.random() < 0.7 else NULL
        status = "prospect" if rng.random() < 0.1 else "active"
        yield (f"{org_id}\t{first_id + n}\t{name}\t{910000000 + n}\t{email}\t{status}"
               f"\t{rng.choice(user_ids)}\n")


def opportunity_lines(rng: random.Random, org_id: int, first_id: int, count: int,
                      customers: tuple[int, int], user_ids: list[int],
                      processes: list[Process], today: date) -> Iterator[str]:
    """Status open 62 %, won 18 %, lost 15 %, expired 5 %; the probability is the stage's
    (100 won, 0 lost); final ones have closed_at after created_at. Expected close dates
    spread evenly over the year before and the year after `today`; amounts log-normal
    around 60,000; a description on half, a follow-up date on 40 % of the open ones."""
    dates = [(today + timedelta(days=d)).isoformat() for d in range(-365, 366)]
    noon = int(datetime(today.year, today.month, today.day, 12, tzinfo=UTC).timestamp())
    stamps = Stamps(noon - 12 * 3600 - 800 * 86400)  # a midnight
    weights = [8, 4, 3, 2, 1, 1, 1, 1][:len(processes)] + [1] * max(0, len(processes) - 8)
    chosen = rng.choices(range(len(processes)), weights=weights, k=count)
    lowercase = [p.lower() for p in PRODUCTS]
    lo, span = customers[0], customers[1] - customers[0] + 1
    random_, choice, lognormal = rng.random, rng.choice, rng.lognormvariate

    for n in range(count):
        shape = random_()
        if shape < 0.45:
            name = f"{choice(PRODUCTS)} {choice(PLACES)}"
        elif shape < 0.8:
            name = f"{choice(PLACES)} {choice(lowercase)}"
        else:
            name = f"{choice(BRANDS)} {choice(lowercase)}"
        description = choice(DESCRIPTIONS) if random_() < 0.5 else NULL
        process_id, opens, won, lost = processes[chosen[n]]
        owner = choice(user_ids)
        created = noon - int(86400 * (30 + 730 * random_()))
        updated = created + int((noon - created) * random_())
        state = random_()
        stage, probability = choice(opens)
        last_open, follow_up, closed = stage, NULL, NULL
        if state < 0.62:
            status = "open"
            if random_() < 0.4:
                follow_up = dates[int(365 + 90 * random_())]
        else:
            status = "won" if state < 0.80 else "lost" if state < 0.95 else "expired"
            if status != "expired":
                stage, probability = (won, 100) if status == "won" else (lost, 0)
            closed = stamps.of(updated)
        amount = min(round(lognormal(11, 1.2), -2), 50_000_000.0)
        yield (f"{org_id}\t{first_id + n}\t{name}\t{description}\t{lo + int(span * random_())}"
               f"\t{owner}\t{process_id}\t{stage}\t{last_open}\t{status}\t{amount:.2f}\tNOK"
               f"\t{probability}\t{dates[int(731 * random_())]}\t{follow_up}\t{closed}"
               f"\t{stamps.of(created)}\t{owner}\t{stamps.of(updated)}\t{owner}\n")


class Stamps:
    """timestamptz text of whole seconds since `start` (UTC), from precomputed parts."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.days = [datetime.fromtimestamp(start + d * 86400, UTC).date().isoformat()
                     for d in range(1000)]
        self.minutes = [f"{m // 60:02}:{m % 60:02}" for m in range(1440)]
        self.seconds = [f"{s:02}+00" for s in range(60)]

    def of(self, moment: int) -> str:
        day, second = divmod(moment - self.start, 86400)
        return f"{self.days[day]} {self.minutes[second // 60]}:{self.seconds[second % 60]}"


def main(argv: list[str] | None = None) -> int:
    from bench.opportunities import data_dir_for, seeded_database

    root = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    root.add_argument("--reseed", action="store_true", help="seed again even if it matches")
    root.add_argument("--opportunities", type=int, default=Spec().opportunities)
    root.add_argument("--data-dir", type=Path, default=None,
                      help="embedded database directory (default bench/results/...)")
    args = root.parse_args(argv)
    spec = Spec(opportunities=args.opportunities)
    with seeded_database(args.data_dir or data_dir_for(spec), spec,
                         reseed=args.reseed) as (_, seeded, _dsn):
        print(json.dumps(asdict(seeded), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
