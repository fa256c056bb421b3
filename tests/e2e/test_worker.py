"""`salescore worker` as real processes beside `salescore serve --no-worker`, delivering to
a receiver in this process: a worker killed with -9 mid-request loses nothing (its lease
runs out, another sends again), SIGTERM gives back the leases in flight, and `serve`
delivers by itself unless told not to."""

import asyncio
import base64
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from salescore.repositories.integrations.deliveries import LISTENER_NAME
from salescore.services.integrations.secrets import encrypt_secret
from tests.e2e.server_process import (
    BIN,
    Serving,
    create_organization,
    embedded_dsn,
    env_with,
    start_serving,
    stop,
    stop_orphan_postgres,
)
from tests.workers.receiver import Answer, Received, Receiver, receiving

KEY = b"e" * 32
SECRET = "whsec_" + base64.b64encode(b"w" * 32).decode()


@dataclass
class Setup:
    data: Path
    env: dict[str, str]
    server: Serving
    organization_id: int
    api_key: str
    receiver: Receiver


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """`serve --no-worker` on an embedded database of its own, an organization, and a
    receiver; no worker runs until a test starts one."""
    data = tmp_path_factory.mktemp("worker") / "data"
    env = env_with(data_dir=str(data), log_level="warning",
                   webhook_allow_private_networks="true", webhook_retry_schedule="0,1",
                   worker_poll_seconds="0.2", shutdown_grace_seconds="1",
                   secrets_key=base64.b64encode(KEY).decode())
    with receiving() as receiver:
        server = start_serving(env, "--no-worker")
        try:
            made = create_organization(env, "admin@worker.test")
            yield Setup(data, env, server, int(str(made["organization_id"])),
                        str(made["api_key"]), receiver)
        finally:
            stop(server.process, signal.SIGINT)
            stop_orphan_postgres(data)


def query(data: Path, statement: str, *args: Any) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(embedded_dsn(data))
        try:
            return list(await connection.fetch(statement, *args))
        finally:
            await connection.close()

    return asyncio.run(run())


def add_endpoint(setup: Setup, path: str) -> int:
    setup.receiver.expect(path, [SECRET])
    [row] = query(setup.data, "INSERT INTO webhook_endpoints (organization_id, url, "
                              "event_types, secret_encrypted) VALUES ($1, $2, $3, $4) "
                              "RETURNING id", setup.organization_id, setup.receiver.url(path),
                  ["customer.created"], encrypt_secret(SECRET, KEY))
    return int(row["id"])


def create_customers(setup: Setup, count: int) -> None:
    for n in range(count):
        made = httpx.post(f"{setup.server.base}/v1/customers", json={"name": f"Kunde {n}"},
                          headers={"Authorization": f"Bearer {setup.api_key}"}, timeout=10)
        assert made.status_code == 201, made.text


def start_worker(setup: Setup) -> subprocess.Popen[bytes]:
    """A `salescore worker` once its listener listens."""
    before = listeners(setup)
    process = subprocess.Popen([str(BIN), "worker"], env=setup.env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while listeners(setup) <= before:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"the worker did not start:\n{output}")
        time.sleep(0.1)
    return process


def listeners(setup: Setup) -> int:
    [row] = query(setup.data, "SELECT count(*) AS n FROM pg_stat_activity "
                              "WHERE application_name = $1", LISTENER_NAME)
    return int(row["n"])


def deliveries(setup: Setup, endpoint_id: int) -> list[asyncpg.Record]:
    return query(setup.data, "SELECT * FROM webhook_deliveries WHERE endpoint_id = $1 "
                             "ORDER BY id", endpoint_id)


def wait_all_succeeded(setup: Setup, endpoint_id: int, count: int) -> list[asyncpg.Record]:
    deadline = time.monotonic() + 60
    while True:
        found = deliveries(setup, endpoint_id)
        if len(found) == count and all(d["status"] == "succeeded" for d in found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not all delivered: {[dict(d) for d in found]}")
        time.sleep(0.1)


def wait_succeeded(setup: Setup, endpoint_id: int, count: int) -> None:
    deadline = time.monotonic() + 60
    while sum(d["status"] == "succeeded" for d in deliveries(setup, endpoint_id)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {count} recorded as succeeded")
        time.sleep(0.05)


def holding_the_first(release: threading.Event, entered: threading.Event) -> Any:
    """Holds the first message until `release`; answers the others at once."""
    held: list[str] = []

    async def respond(received: Received) -> Answer:
        if not held:
            held.append(received.webhook_id)
            entered.set()
            while not release.is_set():  # noqa: ASYNC110 (set by another thread)
                await asyncio.sleep(0.02)
        return Answer(200)

    return respond


def test_a_worker_killed_mid_request_loses_nothing(setup: Setup) -> None:
    path = "/killed"
    endpoint_id = add_endpoint(setup, path)
    release, entered = threading.Event(), threading.Event()
    setup.receiver.answer_with(path, holding_the_first(release, entered))
    first = start_worker(setup)
    try:
        create_customers(setup, 10)
        assert entered.wait(30), "no message came"
        setup.receiver.wait_for(10, path)
        # Answered is not yet recorded: kill only once the nine answered ones are written,
        # so that the one held is the only attempt in flight.
        wait_succeeded(setup, endpoint_id, 9)
        stop(first, signal.SIGKILL)
    finally:
        release.set()
        if first.poll() is None:
            first.kill()
    create_customers(setup, 5)  # while no worker runs: queued, delivered later
    # The killed worker's lease would run out in 60 s; the test makes that time pass.
    query(setup.data, "UPDATE webhook_deliveries SET leased_until = now() "
                      "WHERE endpoint_id = $1 AND leased_until IS NOT NULL", endpoint_id)
    second = start_worker(setup)
    try:
        found = wait_all_succeeded(setup, endpoint_id, 15)
    finally:
        stop(second, signal.SIGTERM)
    seen = Counter(r.webhook_id for r in setup.receiver.received(path))
    assert set(seen) == {str(d["event_id"]) for d in found}
    assert sorted(seen.values()) == [1] * 14 + [2]  # only the one in flight came twice
    assert all(r.verified_by == (SECRET,) for r in setup.receiver.received(path))
    assert [d["attempt_count"] for d in found] == [1] * 15  # the killed attempt: unrecorded


def test_sigterm_gives_back_the_lease_of_the_attempt_in_flight(setup: Setup) -> None:
    path = "/stopped"
    endpoint_id = add_endpoint(setup, path)
    release, entered = threading.Event(), threading.Event()
    setup.receiver.answer_with(path, holding_the_first(release, entered))
    worker = start_worker(setup)
    try:
        create_customers(setup, 1)
        assert entered.wait(30), "no message came"
        took = stop(worker, signal.SIGTERM)
    finally:
        release.set()
    assert worker.returncode == 0
    assert took < 10  # the grace (1 s), then the lease given back
    [given_back] = deliveries(setup, endpoint_id)
    assert given_back["status"] == "pending" and given_back["leased_until"] is None
    assert given_back["attempt_count"] == 0
    again = start_worker(setup)
    try:
        wait_all_succeeded(setup, endpoint_id, 1)  # at once, not after a lease ran out
    finally:
        stop(again, signal.SIGTERM)
    assert len(setup.receiver.received(path)) == 2


def test_serve_delivers_by_itself_unless_told_not_to(setup: Setup) -> None:
    path = "/served"
    endpoint_id = add_endpoint(setup, path)
    create_customers(setup, 1)  # `serve --no-worker` does not send it
    time.sleep(1)
    assert setup.receiver.received(path) == []
    assert listeners(setup) == 0
    delivering = start_serving(setup.env)
    try:
        wait_all_succeeded(setup, endpoint_id, 1)
    finally:
        stop(delivering.process, signal.SIGINT)
    assert delivering.process.returncode == 0
    assert len(setup.receiver.received(path)) == 1
