"""soak: 16 clients for 10 minutes of a mixed workload, with a kill -9 of the server.

A real `salescore serve` on the embedded PostgreSQL (a fresh data directory) takes creates,
stage moves, share changes, list pages, pipeline reports and change-feed reads from
`CLIENTS` clients at once, while one more client follows the change feed. At a random
moment in the middle half of the run the server is killed with SIGKILL and started again
on the same data directory and port (the embedded database outlives it and is found
again). Afterwards:

- no 5xx and no failed connection except while the server was down (from the kill to the
  restarted server's first 200 from /readyz);
- no acknowledged write lost: every opportunity a 201 acknowledged is there, and each has
  exactly as many events in the feed as its version (one per change);
- the follower missed no event: every event the feed holds below the follower's last
  position, it read;
- resident memory flat: growth of each server process from 2 minutes after its start to
  its last sample (target < 10 %).

`python -m bench --only soak [--soak-minutes M]`; the duration is counted from the first
request. Rate limits are raised for the run, as for every benchmark (bench/server.py)."""

import asyncio
import contextlib
import random
import signal
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.report import Options, Report
from bench.server import (
    HOST,
    ROOT,
    Server,
    free_port,
    salescore,
    server_env,
    stop,
    wait_ready,
)

NAME = "soak"
CLIENTS = 16
SELLERS = 4
CUSTOMERS = 20
RSS_GROWTH_TARGET = 0.10
RSS_FROM_SECONDS = 120.0
RSS_EVERY_SECONDS = 5.0
TIMEOUT = 30.0
WEIGHTS = {"create": 30, "move": 15, "share": 10, "list": 20, "report": 10, "feed": 10,
           "get": 5}


@dataclass
class Tally:
    """What the clients saw: every request's outcome, and what was acknowledged."""

    down: list[tuple[float, float]] = field(default_factory=list)
    statuses: Counter[tuple[str, str]] = field(default_factory=Counter)
    bad: list[tuple[str, str, float]] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    requests: int = 0

    def record(self, op: str, outcome: str, *, at: float, bad: bool) -> None:
        """`at`: when the answer (or the failure) came, seconds into the run."""
        self.requests += 1
        self.statuses[(op, outcome)] += 1
        if bad:
            self.bad.append((op, outcome, at))

    def failures(self) -> list[str]:
        """The 5xx and failed connections that came while the server was up."""
        return [f"{op}: {outcome} at {at:.1f} s" for op, outcome, at in self.bad
                if not any(start <= at <= end for start, end in self.down)]


@dataclass
class World:
    api_key: str
    owner_id: int
    seller_ids: list[int]
    customer_ids: list[int]
    stage_ids: list[int]


class Restartable:
    """`salescore serve` on one data directory and port, killed and started again."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.env = server_env(scratch / "data")
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.logs: list[Path] = []

    def start(self) -> float:
        log_path = self.scratch / f"server-{len(self.logs)}.log"
        self.logs.append(log_path)
        began = time.perf_counter()
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [salescore(), "serve", "--host", HOST, "--port", str(self.port)],
                env=self.env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)
        with httpx.Client(base_url=self.base_url, timeout=1.0, trust_env=False) as probe:
            wait_ready(self.process, probe, began=began, log_path=log_path)
        self.started_at = time.perf_counter()
        return self.started_at

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def rss_mb(self) -> float | None:
        assert self.process is not None
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024 / 1e6
        return None

    def server(self) -> Server:
        assert self.process is not None
        return Server(process=self.process, base_url=self.base_url, env=self.env,
                      embedded_database=True)


async def set_up(client: httpx.AsyncClient, server: Server) -> World:
    org = server.create_organization("Soak", admin_email="soak@bench.test",
                                     admin_password="soak-password")
    client.headers["Authorization"] = f"Bearer {org.api_key}"
    sellers = []
    for n in range(SELLERS):
        answer = await client.post("/v1/users", json={
            "name": f"Seller {n}", "email": f"seller{n}@bench.test", "role": "seller",
            "password": "soak-password"})
        answer.raise_for_status()
        sellers.append(int(answer.json()["id"]))
    customers = []
    for n in range(CUSTOMERS):
        answer = await client.post("/v1/customers", json={"name": f"Customer {n} AS"})
        answer.raise_for_status()
        customers.append(int(answer.json()["id"]))
    answer = await client.post("/v1/sales-processes", json={"name": "Soak", "stages": [
        {"name": "Lead", "probability": "10.00"},
        {"name": "Offer", "probability": "50.00"},
        {"name": "Negotiation", "probability": "75.00"}]})
    answer.raise_for_status()
    stages = [int(stage["id"]) for stage in answer.json()["stages"]]
    return World(api_key=org.api_key, owner_id=org.user_id, seller_ids=sellers,
                 customer_ids=customers, stage_ids=stages)


def request_for(op: str, world: World, tally: Tally,
                rng: random.Random) -> tuple[str, str, str, Any]:
    """(operation, method, path, json body) of one operation of the mix; a create while no
    opportunity is known yet."""
    known = rng.choice(tally.created) if tally.created else None
    if known is None:
        op = "create"
    return (op, *_request(op, known, world, rng))


def _request(op: str, known: int | None, world: World,
             rng: random.Random) -> tuple[str, str, Any]:
    if op == "create":
        return "POST", "/v1/opportunities", {
            "name": f"Soak deal {rng.randrange(10**9)}", "amount": f"{rng.randrange(10**6)}.00",
            "customer_id": rng.choice(world.customer_ids), "owner_id": world.owner_id,
            "stage_id": world.stage_ids[0]}
    if op == "move":
        return "POST", f"/v1/opportunities/{known}/move", {
            "stage_id": rng.choice(world.stage_ids)}
    if op == "share":
        return "POST", f"/v1/opportunities/{known}/sellers", {
            "user_id": rng.choice(world.seller_ids), "share": f"{rng.randrange(1, 50)}.00"}
    if op == "list":
        return "GET", "/v1/opportunities?status=open&limit=50&sort=-amount", None
    if op == "report":
        return "GET", "/v1/reports/pipeline?group_by=stage", None
    if op == "feed":
        return "GET", "/v1/events?limit=100", None
    return "GET", f"/v1/opportunities/{known}", None


async def client_loop(client: httpx.AsyncClient, world: World, tally: Tally,
                      deadline: float, began: float, seed: int) -> None:
    rng = random.Random(seed)
    ops, weights = zip(*WEIGHTS.items(), strict=True)
    while time.perf_counter() < deadline:
        op = rng.choices(ops, weights)[0]
        op, method, path, body = request_for(op, world, tally, rng)
        try:
            answer = await client.request(method, path, json=body)
        except httpx.TransportError as error:
            tally.record(op, type(error).__name__, at=time.perf_counter() - began, bad=True)
            await asyncio.sleep(0.2)
            continue
        tally.record(op, str(answer.status_code), at=time.perf_counter() - began,
                     bad=answer.status_code >= 500)
        if op == "create" and answer.status_code == 201:
            tally.created.append(int(answer.json()["id"]))


async def follow_feed(client: httpx.AsyncClient, writers_done: asyncio.Event) -> set[int]:
    """Every event id the feed gave, read on from `next_cursor` as a consumer would, until
    the writers are done and the feed has nothing more."""
    seen: set[int] = set()
    cursor = ""
    while True:
        finished = writers_done.is_set()
        try:
            answer = await client.get("/v1/events", params={"limit": 500, **(
                {"after": cursor} if cursor else {})})
        except httpx.TransportError:
            await asyncio.sleep(0.2)
            continue
        if answer.status_code != 200:
            await asyncio.sleep(0.2)
            continue
        page = answer.json()
        seen.update(int(event["id"]) for event in page["data"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            if finished and not page["data"]:
                return seen
            await asyncio.sleep(0.5)


async def whole_feed(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = await client.get("/v1/events", params={"limit": 500, **(
            {"after": cursor} if cursor else {})})
        answer.raise_for_status()
        page = answer.json()
        events += page["data"]
        if not page["has_more"]:
            return events
        cursor = page["next_cursor"]


async def sample_rss(server: Restartable, samples: list[tuple[int, float, float]],
                     deadline: float) -> None:
    while time.perf_counter() < deadline:
        rss = server.rss_mb()
        if rss is not None:
            samples.append((len(server.logs), time.perf_counter() - server.started_at,
                            rss))
        await asyncio.sleep(RSS_EVERY_SECONDS)


async def killer(server: Restartable, tally: Tally, began: float, at: float) -> None:
    await asyncio.sleep(max(0.0, began + at - time.perf_counter()))
    down_from = time.perf_counter() - began
    server.kill()
    await asyncio.to_thread(server.start)
    tally.down.append((down_from, time.perf_counter() - began))


def rss_growth(samples: list[tuple[int, float, float]]) -> dict[int, dict[str, float]]:
    """Per server process: RSS at the first sample 2 minutes after its start, at its last
    sample, and the growth between them."""
    out: dict[int, dict[str, float]] = {}
    for process in sorted({n for n, _, _ in samples}):
        own = [(t, rss) for n, t, rss in samples if n == process and t >= RSS_FROM_SECONDS]
        if len(own) >= 2:
            first, last = own[0], own[-1]
            out[process] = {"from_s": first[0], "to_s": last[0], "from_mb": first[1],
                            "to_mb": last[1], "growth": last[1] / first[1] - 1}
    return out


async def soak(server: Restartable, minutes: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=CLIENTS + 2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=TIMEOUT, limits=limits,
                                 trust_env=False) as client:
        world = await set_up(client, server.server())
        tally = Tally()
        samples: list[tuple[int, float, float]] = []
        began = time.perf_counter()
        deadline = began + minutes * 60
        kill_at = rng.uniform(0.25, 0.75) * minutes * 60
        writers_done = asyncio.Event()
        follower = asyncio.create_task(follow_feed(client, writers_done))
        await asyncio.gather(
            *(client_loop(client, world, tally, deadline, began, seed + n)
              for n in range(CLIENTS)),
            sample_rss(server, samples, deadline), killer(server, tally, began, kill_at))
        writers_done.set()
        seen = await follower
        versions = {}
        missing = []
        for opportunity_id in tally.created:
            answer = await client.get(f"/v1/opportunities/{opportunity_id}")
            if answer.status_code != 200:
                missing.append(opportunity_id)
            else:
                versions[opportunity_id] = int(answer.json()["version"])
        feed = await whole_feed(client)
        per_opportunity = Counter(int(e["aggregate_id"]) for e in feed
                                  if e["aggregate_type"] == "opportunity")
        short = [i for i, version in versions.items() if per_opportunity[i] != version]
        unseen = sorted({int(event["id"]) for event in feed} - seen)
    return {"minutes": minutes, "clients": CLIENTS, "seed": seed, "kill_at_s": kill_at,
            "down": tally.down, "requests": tally.requests,
            "statuses": {f"{op} {status}": n for (op, status), n in
                         sorted(tally.statuses.items())},
            "failures_outside_down": tally.failures()[:50], "created": len(tally.created),
            "created_missing": missing[:50], "created_missing_count": len(missing),
            "event_count_mismatch": short[:50], "event_count_mismatch_count": len(short),
            "events_in_feed": len(feed), "follower_seen": len(seen),
            "follower_missed": unseen[:50], "follower_missed_count": len(unseen),
            "rss": rss_growth(samples)}


def text_of(data: dict[str, Any]) -> str:
    down = ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in data["down"])
    lines = [
        f"load      {data['clients']} clients + 1 feed follower, {data['minutes']:g} min, "
        f"seed {data['seed']}; killed -9 at {data['kill_at_s']:.1f} s, down {down}",
        f"requests  {data['requests']:,}; by outcome: " + ", ".join(
            f"{k} {v:,}" for k, v in data["statuses"].items()),
        f"5xx or failed connections outside the down time: "
        f"{len(data['failures_outside_down'])}",
        f"acknowledged creates {data['created']:,}; missing afterwards "
        f"{data['created_missing_count']}; events != version for "
        f"{data['event_count_mismatch_count']}",
        f"feed      {data['events_in_feed']:,} events; the follower read "
        f"{data['follower_seen']:,} and missed {data['follower_missed_count']}",
    ]
    for process, rss in data["rss"].items():
        lines.append(f"rss       server {process}: {rss['from_mb']:.1f} MB at "
                     f"{rss['from_s']:.0f} s -> {rss['to_mb']:.1f} MB at {rss['to_s']:.0f} s "
                     f"({rss['growth']:+.1%}; target < {RSS_GROWTH_TARGET:.0%})")
    if "stopped" in data:
        lines.append(f"stopped   exit code {data['stopped']['exit_code']}; embedded database "
                     f"left running: {data['stopped']['database_left_running']}")
    lines += [f"  {failure}" for failure in data["failures_outside_down"][:10]]
    return "\n".join(lines)


def failed(data: dict[str, Any]) -> bool:
    return bool(data["failures_outside_down"] or data["created_missing_count"]
                or data["event_count_mismatch_count"] or data["follower_missed_count"]
                or any(r["growth"] >= RSS_GROWTH_TARGET for r in data["rss"].values()))


def run(options: Options) -> Report:
    scratch = Path(tempfile.mkdtemp(prefix="salescore-soak-"))
    server = Restartable(scratch)
    server.start()
    try:
        data = asyncio.run(soak(server, options.soak_minutes, seed=random.randrange(10**6)))
    finally:
        assert server.process is not None
        stopped = stop(server.process, data_dir=scratch / "data", log_path=server.logs[-1])
    data["stopped"] = {"exit_code": stopped.exit_code,
                       "database_left_running": stopped.database_left_running}
    return Report(name=NAME, text=text_of(data), data=data, failed=failed(data))
