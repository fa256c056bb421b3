"""webhooks: outbound delivery (issue 15's targets), with a local receiver that answers 200
at once (bench/receiver.py, a process of its own) and SALESCORE_WEBHOOK_ALLOW_PRIVATE_
NETWORKS=true (the receiver is on 127.0.0.1).

- Latency: `serve --no-worker` and one `salescore worker` beside it (a process each, as
  the two cores allow), one endpoint; customers created through the
  API at `RATE` a second for `--seconds` x 2 (open loop: each create sent on time, whatever
  is still in flight); each one's customer.created event is timed from the create's
  request to its arrival at the receiver (an upper bound: the event commits before the
  answer, and the figure holds the create's own time too). Targets: p50 < 100 ms, p99 <
  500 ms. Reported beside it: the same from the create's answer (a lower bound: a
  delivery may arrive before the client has read the answer), and the creates' p50.
- Throughput: `serve --no-worker`, `QUEUED` events queued for one endpoint, then one
  `salescore worker` (its concurrency 32) on the same database: deliveries a second from
  the first arrival to the last. Target >= 500/s.
- Create cost: on that `--no-worker` server once the worker has stopped, opportunities
  created by 16 clients for
  `--seconds` in an organization with no endpoint and in one with 3 endpoints taking
  every type, `--rounds` rounds (at most 3) alternating; the ratio of the rates, as the
  cost of one over the other (target: with 3 costs <= 1.15x none, i.e. its rate >= 1/1.15
  of the other's). The deliveries it queues are not sent meanwhile: this is what the
  outbox adds to the create itself.

Every delivery is checked: each queued event arrives, and each `webhook-id` once."""

import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from bench.load import percentile
from bench.report import Figure, Options, Report, figure
from bench.server import HOST, ROOT, Server, free_port, running_server, salescore

NAME = "webhooks"
RATE = 200
QUEUED = 5_000
CLIENTS = 16
ENDPOINTS = 3
ENV = {"SALESCORE_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true", "SALESCORE_WORKER_CONCURRENCY": "32",
       "SALESCORE_WORKER_POLL_SECONDS": "1"}
STAGES = [{"name": "Lead", "probability": "10.00"},
          {"name": "Won", "probability": "100.00", "kind": "won"},
          {"name": "Lost", "probability": "0.00", "kind": "lost"}]


@contextlib.contextmanager
def receiver() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bench.receiver", "--port", str(port)],
                               cwd=ROOT, stdin=subprocess.DEVNULL)
    url = f"http://{HOST}:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"{url}/stats", timeout=1.0, trust_env=False)
                break
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def arrivals(url: str) -> list[tuple[str, int, float]]:
    found = httpx.get(f"{url}/stats", timeout=30.0, trust_env=False).json()["arrivals"]
    return [(str(w), int(a), float(t)) for w, a, t in found]


@dataclass(frozen=True, slots=True)
class Org:
    key: dict[str, str]  # its all-scopes API key, as headers
    owner_id: int  # its admin, the owner of the opportunities made here


def organization(server: Server, name: str, hooks: int, url: str) -> Org:
    """A new organization with a default sales process and `hooks` endpoints to `url`."""
    org = server.create_organization(f"Hooks {name}", admin_email=f"{name}@hooks.test",
                                     admin_password="benchpassword")
    key = {"Authorization": f"Bearer {org.api_key}"}
    with httpx.Client(base_url=server.base_url, headers=key, timeout=30.0,
                      trust_env=False) as client:
        client.post("/v1/sales-processes", json={
            "name": "Bench", "stages": STAGES, "default_for": {"all": True}}
                    ).raise_for_status()
        for n in range(hooks):
            client.post("/v1/webhook-endpoints", json={
                "url": f"{url}/hook/{name}/{n}", "description": f"bench {n}"}
                        ).raise_for_status()
    return Org(key, org.user_id)


async def paced_customers(base_url: str, key: dict[str, str], rate: int, seconds: float,
                          failed: dict[str, int]) -> dict[int, tuple[float, float]]:
    """Customers created at `rate` a second: each one's id, when its request was sent and
    when its answer was read (and, in `failed`, what went wrong otherwise, by status or
    error). The event commits between the two."""
    acked: dict[int, tuple[float, float]] = {}
    async with httpx.AsyncClient(base_url=base_url, headers=key, timeout=30.0,
                                 trust_env=False,
                                 limits=httpx.Limits(max_connections=64)) as client:
        async def one(n: int) -> None:
            sent = time.time()
            try:
                response = await client.post("/v1/customers", json={"name": f"Kunde {n}"})
            except httpx.TransportError as error:
                failed[type(error).__name__] = failed.get(type(error).__name__, 0) + 1
                return
            if response.status_code == 201:
                acked[response.json()["id"]] = (sent, time.time())
            else:
                failed[str(response.status_code)] = failed.get(str(response.status_code), 0) + 1

        began = time.perf_counter()
        tasks = []
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, began + n / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    return acked


def latency(options: Options, url: str) -> tuple[list[Figure], dict[str, Any]]:
    with running_server("--no-worker", env=ENV) as server, worker_process(server):
        org = organization(server, "latency", 1, url)
        seconds = 2 * options.seconds
        failed: dict[str, int] = {}
        acked = asyncio.run(paced_customers(server.base_url, org.key, RATE, seconds, failed))
        deadline = time.time() + 30
        while time.time() < deadline:
            got = {a: t for _, a, t in arrivals(url) if a in acked}
            if len(got) >= len(acked):
                break
            time.sleep(0.2)
    waits = sorted(got[a] - acked[a][0] for a in got)
    after_answer = sorted(got[a] - acked[a][1] for a in got)
    p50, p99 = percentile(waits, 50) * 1e3, percentile(waits, 99) * 1e3
    data = {"events": len(acked), "delivered": len(got), "rate": RATE, "seconds": seconds,
            "failed_creates": failed,
            "from_answer_ms": {"p50": percentile(after_answer, 50) * 1e3,
                               "p99": percentile(after_answer, 99) * 1e3},
            "create_ms": {"p50": percentile(sorted(b - a for a, b in acked.values()), 50) * 1e3}}
    return [figure("webhooks.latency_p50", p50, "ms", on="value", op="<", limit=100.0),
            figure("webhooks.latency_p99", p99, "ms", on="value", op="<", limit=500.0),
            figure("webhooks.latency_all_delivered", float(len(got) == len(acked)), "bool",
                   on="value", op="==", limit=1.0)], data


@contextlib.contextmanager
def worker_process(server: Server) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([salescore(), "worker"], env=server.env, cwd=ROOT,
                               stdin=subprocess.DEVNULL)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


async def creates(base_url: str, org: Org, seconds: float) -> float:
    """Opportunities created a second by CLIENTS clients, back to back."""
    done = 0
    async with httpx.AsyncClient(base_url=base_url, headers=org.key, timeout=30.0,
                                 trust_env=False) as client:
        customer = (await client.post("/v1/customers", json={"name": "Fjord AS"})).json()["id"]
        began = time.perf_counter()

        async def one_client() -> None:
            nonlocal done
            while time.perf_counter() - began < seconds:
                response = await client.post("/v1/opportunities", json={
                    "name": "Deal", "customer_id": customer, "amount": "1000.00",
                    "owner_id": org.owner_id})
                done += response.status_code == 201

        await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
        return done / (time.perf_counter() - began)


def queued_and_creates(options: Options, url: str) -> tuple[list[Figure], dict[str, Any]]:
    """On a `--no-worker` server: the flood queued, then one `salescore worker` delivering
    it (and stopped); then the creates, with nothing delivering meanwhile."""
    with running_server("--no-worker", env=ENV) as server:
        flood = organization(server, "flood", 1, url)
        flood_failed: dict[str, int] = {}
        acked = asyncio.run(paced_customers(server.base_url, flood.key, 500, QUEUED / 500,
                                            flood_failed))
        start = len(arrivals(url))  # the receiver's earlier arrivals are another database's
        with worker_process(server):
            deadline = time.time() + 120
            while time.time() < deadline:
                new = arrivals(url)[start:]
                if len({a for _, a, _ in new if a in acked}) >= len(acked):
                    break
                time.sleep(0.5)
        none = organization(server, "none", 0, url)
        three = organization(server, "three", ENDPOINTS, url)
        rates: dict[str, list[float]] = {"none": [], "three": []}
        for number in range(min(options.rounds, 3)):
            order = [("none", none), ("three", three)]
            for name, org in order if number % 2 == 0 else order[::-1]:
                rates[name].append(asyncio.run(creates(server.base_url, org,
                                                       options.seconds)))
    mine = [(w, t) for w, a, t in new if a in acked]
    times = sorted(t for _, t in mine)
    per_second = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    repeats = len(mine) - len({w for w, _ in mine})
    ratios = [t / n for t, n in zip(rates["three"], rates["none"], strict=True) if n]
    data = {"queued": len(acked), "failed_creates": flood_failed,
            "delivered": len({a for _, a, _ in new if a in acked}),
            "repeats": repeats, "creates_per_second": rates}
    cost = 1 / statistics.median(ratios) if ratios else float("inf")
    return [figure("webhooks.deliveries_per_second", per_second, "1/s", on="value", op=">=",
                   limit=500.0),
            figure("webhooks.queued_all_delivered_once",
                   float(data["delivered"] == len(acked) and repeats == 0), "bool",
                   on="value", op="==", limit=1.0),
            figure("webhooks.create_cost_3_endpoints", cost, "x", baseline=None,
                   on="value", op="<=", limit=1.15)], data


def render(found: list[Figure], data: dict[str, Any]) -> str:
    lines = [f"{f.name:<40}{'-' if f.value is None else f'{f.value:.4g}':>12} {f.unit:<5}"
             f" {f.target or '':<16} {'' if f.met is None else 'met' if f.met else 'MISSED'}"
             for f in found]
    latency_data, queue_data = data["latency"], data["throughput_and_creates"]
    lines.append(f"latency: {latency_data['delivered']} of {latency_data['events']} events "
                 f"at {RATE}/s; queued: {queue_data['delivered']} of {queue_data['queued']} "
                 f"delivered, {queue_data['repeats']} repeats; creates/s "
                 f"{queue_data['creates_per_second']}")
    return "\n".join(lines)


def run(options: Options) -> Report:
    os.environ.setdefault("SALESCORE_LOG_LEVEL", "warning")
    began = time.perf_counter()
    with receiver() as url:
        first, latency_data = latency(options, url)
        second, queue_data = queued_and_creates(options, url)
    found = [*first, *second]
    data: dict[str, Any] = {"latency": latency_data, "throughput_and_creates": queue_data,
                            "seconds": time.perf_counter() - began,
                            "figures": [asdict(f) for f in found]}
    failed = any(f.met is False for f in found if f.unit == "bool")
    return Report(name=NAME, text=render(found, data), data=data, failed=failed)
