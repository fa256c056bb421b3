"""`salescore serve --processes N`: N uvicorn workers on one socket, each with its own
pool, caller cache and LISTEN connection, on the one embedded PostgreSQL the parent
started; SIGTERM or Ctrl-C drains them all, exits 0 and stops that server."""

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest

from tests.e2e.server_process import (
    Serving,
    alive,
    create_organization,
    database_stopped,
    embedded_dsn,
    env_with,
    postmaster_pid,
    refuses_connections,
    slow_upload,
    start_processes,
    stop,
    stop_orphan_postgres,
    worker_pids,
    worker_that_answered,
)

Launch = Callable[..., Serving]
LISTENER = "salescore-auth-listener"


@pytest.fixture
def launch() -> Iterator[Launch]:
    """Starts `salescore serve` processes; those still running after the test are killed,
    with their workers."""
    started: list[Serving] = []

    def start(env: dict[str, str], processes: int) -> Serving:
        started.append(start_processes(env, processes))
        return started[-1]

    yield start
    for server in started:
        _kill_with_workers(server)


def _kill_with_workers(server: Serving) -> None:
    if server.process.poll() is not None:
        return
    workers = psutil.Process(server.process.pid).children()
    stop(server.process, signal.SIGKILL)
    for worker in workers:
        if worker.is_running():
            worker.kill()


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Serving, Path]]:
    """`serve --processes 2` on an embedded database of its own, for the tests that only
    send requests to it."""
    data = tmp_path_factory.mktemp("processes") / "data"
    env = env_with(data_dir=str(data), log_level="warning")
    server = start_processes(env, 2)
    try:
        yield server, data
    finally:
        _kill_with_workers(server)
        stop_orphan_postgres(data)


def _env(data_dir: Path) -> dict[str, str]:
    return env_with(data_dir=str(data_dir), log_level="warning")


def _bearer(secret: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _new_key(base: str, admin_key: object) -> dict[str, object]:
    made = httpx.post(f"{base}/v1/api-keys", headers=_bearer(admin_key),
                      json={"name": "to revoke", "scopes": ["customers:read"]})
    assert made.status_code == 201, made.text
    key: dict[str, object] = made.json()
    return key


@contextmanager
def _client_on_each_worker(server: Serving, secret: object,
                           tries: int = 40) -> Iterator[dict[int, httpx.Client]]:
    """One kept-alive client connection per worker, each of which has just served
    `secret` (GET /v1/me, 200). The kernel hands a new connection to whichever worker
    accepts first, so clients are opened until every worker holds one."""
    wanted = worker_pids(server)
    with ExitStack() as stack:
        clients: dict[int, httpx.Client] = {}
        for _ in range(tries):
            client = stack.enter_context(httpx.Client(base_url=server.base, timeout=10))
            me = client.get("/v1/me", headers=_bearer(secret))
            assert me.status_code == 200, me.text
            clients.setdefault(worker_that_answered(server, me), client)
            if set(clients) == wanted:
                yield clients
                return
        raise AssertionError(f"{tries} connections did not reach every worker of {wanted}")


def _listeners(data_dir: Path) -> int:
    """The LISTEN connections of salescore apps open on the embedded server."""
    async def count() -> int:
        connection = await asyncpg.connect(embedded_dsn(data_dir))
        try:
            return int(await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                LISTENER))
        finally:
            await connection.close()

    return asyncio.run(count())


def test_two_processes_are_two_workers_on_the_parents_embedded_database(
        two_processes: tuple[Serving, Path]):
    """The workers neither start nor register an embedded server: the parent is its one
    user; each worker has its own listener."""
    server, data = two_processes
    workers = worker_pids(server)
    assert len(workers) == 2 and server.process.pid not in workers
    users = json.loads((data / "pg-users.json").read_text())
    assert [pid for pid, _ in users] == [server.process.pid]
    assert _listeners(data) == 2


def test_a_token_issued_by_one_worker_works_on_the_other(
        two_processes: tuple[Serving, Path]):
    """Every worker signs with the one key the parent made into the data dir."""
    server, data = two_processes
    created = create_organization(_env(data), "token@acme.test")
    with _client_on_each_worker(server, created["api_key"]) as clients:
        (first, one), (second, other) = clients.items()
        token = one.post("/v1/auth/token",
                         data={"username": "token@acme.test", "password": "s3cret-pass"})
        assert token.status_code == 200, token.text
        assert worker_that_answered(server, token) == first
        me = other.get("/v1/me", headers=_bearer(token.json()["access_token"]))
        assert me.status_code == 200, me.text
        assert worker_that_answered(server, me) == second


def _served_me(metrics: str) -> float:
    line = 'salescore_http_requests_total{method="GET",route="/v1/me",status="200"}'
    return sum(float(row.rpartition(" ")[2]) for row in metrics.splitlines()
               if row.startswith(line))


def test_metrics_count_the_requests_of_every_worker(two_processes: tuple[Serving, Path]):
    """prometheus-client's multiprocess mode: whichever worker answers GET /metrics
    counts what both served."""
    server, data = two_processes
    created = create_organization(_env(data), "metrics@acme.test")
    with _client_on_each_worker(server, created["api_key"]) as clients:
        before = [_served_me(c.get("/metrics").text) for c in clients.values()]
        for client in clients.values():
            for _ in range(3):
                assert client.get("/v1/me", headers=_bearer(created["api_key"])
                                  ).status_code == 200
        after = [_served_me(c.get("/metrics").text) for c in clients.values()]
    assert before[0] == before[1] and after[0] == after[1] == before[0] + 6


def test_a_key_revoked_through_one_worker_is_refused_by_the_other_within_a_second(
        two_processes: tuple[Serving, Path]):
    """Both workers have served (and so cached, for SALESCORE_AUTH_CACHE_SECONDS=30) the
    key; the one that did not revoke it hears of it through NOTIFY."""
    server, data = two_processes
    admin_key = create_organization(_env(data), "revoke@acme.test")["api_key"]
    victim = _new_key(server.base, admin_key)
    with _client_on_each_worker(server, victim["secret"]) as clients:
        (revoker, one), (other_worker, other) = clients.items()
        revoked = one.delete(f"/v1/api-keys/{victim['id']}", headers=_bearer(admin_key))
        assert revoked.status_code == 204, revoked.text
        assert worker_that_answered(server, revoked) == revoker
        sent = time.monotonic()
        while True:
            me = other.get("/v1/me", headers=_bearer(victim["secret"]))
            assert worker_that_answered(server, me) == other_worker
            if me.status_code == 401 or time.monotonic() - sent > 1:
                break
            time.sleep(0.01)
        assert me.status_code == 401, f"still {me.status_code} after 1 s: {me.text}"


def _exit_within(server: Serving, seconds: float) -> bool:
    try:
        server.process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def test_sigterm_drains_every_worker_exits_0_and_stops_the_embedded_database(
        data_dir: Path, launch: Launch):
    grace = 8
    env = env_with(data_dir=str(data_dir), log_level="warning",
                   shutdown_grace_seconds=str(grace))
    server = launch(env, 2)
    workers = worker_pids(server)
    assert len(workers) == 2
    api_key = create_organization(env, "term@acme.test")["api_key"]
    postmaster = postmaster_pid(data_dir)
    assert postmaster is not None and alive(postmaster)
    with slow_upload(server.base, api_key, seconds=3) as answer:
        server.process.send_signal(signal.SIGTERM)
        assert refuses_connections(server.base), "new connections still accepted"
        assert not answer.done(), "the request ended before the server stopped listening"
        exited = _exit_within(server, grace)
    assert answer.result().status_code == 201, answer.result().text
    assert exited, "serve outlived its grace period"
    assert server.process.returncode == 0, server.output()
    assert not any(alive(worker) for worker in workers), "a worker outlived serve"
    assert database_stopped(postmaster, data_dir), "the embedded PostgreSQL outlived serve"


def test_ctrl_c_in_a_terminal_stops_parent_and_workers_with_exit_0(
        data_dir: Path, launch: Launch):
    """A terminal's Ctrl-C sends SIGINT to every process of the group: the workers hear it
    themselves, and again (as SIGTERM) from the parent."""
    server = launch(_env(data_dir), 2)
    workers = worker_pids(server)
    postmaster = postmaster_pid(data_dir)
    assert postmaster is not None
    for pid in [*workers, server.process.pid]:
        os.kill(pid, signal.SIGINT)
    assert _exit_within(server, 20), "serve did not stop on Ctrl-C"
    assert server.process.returncode == 0, server.output()
    assert not any(alive(worker) for worker in workers), "a worker outlived serve"
    assert database_stopped(postmaster, data_dir), "the embedded PostgreSQL outlived serve"
