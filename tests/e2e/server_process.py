"""Running the real `salescore` command in tests: start `serve`, wait for it, stop it, and
look at the embedded PostgreSQL it shares with every command on its data dir."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

BIN = Path(sys.executable).parent / "salescore"


@dataclass(frozen=True, slots=True)
class Serving:
    process: subprocess.Popen[bytes]
    base: str
    ready_after: float

    def output(self) -> str:
        """What the process printed; only once it has exited."""
        return self.process.stdout.read().decode() if self.process.stdout else ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_with(**settings: str) -> dict[str, str]:
    """This environment without any `SALESCORE_*`, then the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESCORE_")}
    env.update({f"SALESCORE_{k.upper()}": v for k, v in settings.items()})
    return env


def start_serving(env: dict[str, str], *args: str) -> Serving:
    """A `salescore serve` process that answered /readyz with 200; `args` are more options
    of `serve` (`"--processes", "2"`)."""
    port = free_port()
    started = time.monotonic()
    process = subprocess.Popen([str(BIN), "serve", "--port", str(port), *args], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        ready_after = _wait_ready(base, process, started)
    except BaseException:
        stop(process, signal.SIGKILL)
        raise
    return Serving(process=process, base=base, ready_after=ready_after)


def stop(process: subprocess.Popen[bytes], sig: int, timeout: float = 20) -> float:
    """Send `sig` and wait for the exit (killing it past `timeout`); the seconds it took."""
    sent = time.monotonic()
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
    return time.monotonic() - sent


@contextmanager
def serving(env: dict[str, str]) -> Iterator[tuple[str, float]]:
    """`salescore serve` for the block, stopped with Ctrl-C (SIGINT) after it; yields its
    base URL and the seconds until /readyz said 200."""
    server = start_serving(env)
    try:
        yield server.base, server.ready_after
    finally:
        stop(server.process, signal.SIGINT)
    assert server.process.returncode == 0, server.output()


def _wait_ready(base: str, process: subprocess.Popen[bytes], started: float) -> float:
    deadline = started + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"serve exited early:\n{output}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("serve did not become ready in 60 s")


def create_organization(env: dict[str, str], email: str) -> dict[str, object]:
    result = subprocess.run(
        [str(BIN), "create-organization", "Acme", "--admin-email", email,
         "--admin-password", "s3cret-pass", "--currency", "SEK"],
        env=env, capture_output=True, text=True, timeout=60, check=True)
    created: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return created


def postgres_running(data_root: Path) -> bool:
    """Some postgres process serves a data directory below `data_root`."""
    for process in psutil.process_iter(attrs=["name", "cmdline"]):
        cmdline = " ".join(process.info.get("cmdline") or [])
        if process.info.get("name") == "postgres" and str(data_root) in cmdline:
            return True
    return False


def postmaster_pid(data_dir: Path) -> int | None:
    """The pid in the embedded server's `postmaster.pid`, which PostgreSQL removes when it
    stops; None without the file."""
    path = data_dir / "pg" / "postmaster.pid"
    if not path.exists():
        return None
    return int(path.read_text().splitlines()[0])


def embedded_dsn(data_dir: Path, database: str = "salescore") -> str:
    """A libpq URL to `database` on the embedded server running on `data_dir`, through the
    socket directory and port its `postmaster.pid` names (lines 5 and 4)."""
    lines = (data_dir / "pg" / "postmaster.pid").read_text().splitlines()
    return f"postgresql://postgres@/{database}?host={lines[4]}&port={lines[3]}"


def alive(pid: int) -> bool:
    """The process runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def start_processes(env: dict[str, str], processes: int) -> Serving:
    """`salescore serve --processes N` once each of its N workers has answered /readyz with
    200 (the first to start takes every connection until the others listen too)."""
    server = start_serving(env, "--processes", str(processes))
    try:
        _wait_workers_ready(server, processes)
    except BaseException:
        stop(server.process, signal.SIGKILL)
        raise
    return server


def _wait_workers_ready(server: Serving, processes: int) -> None:
    answered: set[int] = set()
    deadline = time.monotonic() + 60
    while len(answered) < processes:
        if time.monotonic() > deadline:
            raise AssertionError(f"only workers {answered} answered in 60 s")
        with httpx.Client(base_url=server.base, timeout=5) as client:
            ready = client.get("/readyz")
            if ready.status_code == 200:
                answered.add(worker_that_answered(server, ready))
        time.sleep(0.02)


def worker_pids(server: Serving) -> set[int]:
    """The processes below `serve` that listen on its port: its uvicorn workers (with
    `--processes` above 1; none with 1, where `serve` itself listens)."""
    port = httpx.URL(server.base).port
    return {child.pid for child in psutil.Process(server.process.pid).children()
            if any(connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
                   for connection in _tcp_connections(child))}


def worker_that_answered(server: Serving, response: httpx.Response) -> int:
    """The pid of the worker of `serve --processes N` that holds the connection `response`
    came on (the client's connection is kept alive, so the worker still holds it)."""
    client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    port = httpx.URL(server.base).port
    for child in psutil.Process(server.process.pid).children():
        for connection in _tcp_connections(child):
            if (connection.laddr.port == port and connection.raddr
                    and connection.raddr.port == client_port):
                return child.pid
    raise AssertionError(f"no worker holds the connection from port {client_port}")


def _tcp_connections(process: psutil.Process) -> list[Any]:
    try:
        return list(process.net_connections(kind="tcp"))
    except psutil.NoSuchProcess:
        return []


def _trickled(in_flight: threading.Event, seconds: float) -> Iterator[bytes]:
    yield b'{"name": "Slow Link AS"'
    in_flight.set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.1)
        yield b" "
    yield b"}"


@contextmanager
def slow_upload(base: str, api_key: object, seconds: float) -> Iterator[Future[httpx.Response]]:
    """A customer created by a client on a slow link, sending its body over `seconds`: a
    request the server has begun and cannot finish before then. Yields once it is in
    flight."""
    in_flight = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(httpx.post, f"{base}/v1/customers",
                             content=_trickled(in_flight, seconds), timeout=60,
                             headers={"Authorization": f"Bearer {api_key}",
                                      "Content-Type": "application/json"})
        assert in_flight.wait(timeout=10), "the request never started"
        # Until the server has read the request's headers, a stopping server may close the
        # connection as idle (uvicorn does): give a busy machine time to read them.
        time.sleep(1.0)
        yield answer


def refuses_connections(base: str, within: float = 2) -> bool:
    """Whether the server stops taking connections within `within` seconds: one refused,
    or accepted by a stopping worker and closed unanswered, is not taken."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/healthz", timeout=0.5)
        except (httpx.ConnectError, httpx.RemoteProtocolError):
            return True
        time.sleep(0.05)
    return False


def database_stopped(postmaster: int, data_dir: Path) -> bool:
    """The embedded PostgreSQL of `data_dir` (its postmaster `postmaster`) has stopped."""
    return not alive(postmaster) and postmaster_pid(data_dir) is None


def stop_orphan_postgres(data_dir: Path) -> None:
    """Stop an embedded PostgreSQL a test left running on `data_dir`."""
    orphan = postmaster_pid(data_dir)
    if orphan is not None and alive(orphan):
        psutil.Process(orphan).terminate()
        deadline = time.monotonic() + 20
        while alive(orphan) and time.monotonic() < deadline:
            time.sleep(0.1)
