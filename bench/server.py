"""A real `salescore serve` process for the benchmarks.

It listens on a free 127.0.0.1 port with a fresh temporary data directory, so it starts
its own embedded PostgreSQL unless SALESCORE_DATABASE_URL is set (the directory then only
holds the JWT secret). Its start is timed from the spawn to the first 200 from /readyz
(polled every 50 ms); it is stopped with SIGINT, which also stops the embedded database.
Every wait has a time limit; a server that will not stop is killed."""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
POLL_SECONDS = 0.05
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
CLI_TIMEOUT = 120.0
_PROBLEM = re.compile(r"\b(ERROR|CRITICAL|WARNING|Traceback|Exception)\b")


@dataclass(frozen=True, slots=True)
class Organization:
    organization_id: int
    user_id: int
    api_key: str


@dataclass(frozen=True, slots=True)
class Stopped:
    exit_code: int | None
    seconds: float
    killed: bool
    database_left_running: bool
    log_problems: tuple[str, ...]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    env: dict[str, str]
    embedded_database: bool
    ready_seconds: float = 0.0
    stopped: Stopped | None = None

    def rss_mb(self) -> float:
        """Resident memory of the server process itself (VmRSS), in MB of 10^6 bytes."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
        raise RuntimeError("the server process has no VmRSS")

    def cli(self, *args: str) -> str:
        """Run another `salescore` command against the same database; its stdout."""
        done = subprocess.run([salescore(), *args], env=self.env, cwd=ROOT, text=True,
                              capture_output=True, timeout=CLI_TIMEOUT, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"salescore {args[0]} exited {done.returncode}: "
                               f"{done.stderr[-2000:]}")
        return done.stdout

    def create_organization(self, name: str, *, admin_email: str,
                            admin_password: str) -> Organization:
        """Without the starter setup (each benchmark makes what it measures), and with the
        e-mail of an earlier run's organization on the same database allowed."""
        out = self.cli("create-organization", name, "--admin-email", admin_email,
                       "--admin-password", admin_password, "--empty", "--allow-shared-email")
        made = json.loads(out.strip().splitlines()[-1])
        return Organization(organization_id=int(made["organization_id"]),
                            user_id=int(made["user_id"]), api_key=str(made["api_key"]))

    def token(self, *, email: str, password: str, organization_id: int) -> str:
        """A JWT from POST /v1/auth/token (the organization named, for reruns on one DB)."""
        response = httpx.post(f"{self.base_url}/v1/auth/token", timeout=30.0, trust_env=False,
                              data={"username": email, "password": password,
                                    "client_id": str(organization_id)})
        response.raise_for_status()
        return str(response.json()["access_token"])


def salescore() -> str:
    """The `salescore` script beside this interpreter (the venv's), else on PATH."""
    beside = Path(sys.executable).parent / "salescore"
    found = str(beside) if beside.exists() else shutil.which("salescore")
    if found is None:
        raise FileNotFoundError("no salescore command: run `make install`")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def server_env(data_dir: Path) -> dict[str, str]:
    """The server's environment. Rate limits stay on, raised far above any benchmark's
    load, so that their cost is measured but they never refuse a request."""
    env = dict(os.environ)
    env["SALESCORE_DATA_DIR"] = str(data_dir)
    env["SALESCORE_LOG_LEVEL"] = "warning"
    env |= {"SALESCORE_RATE_LIMIT_PER_MINUTE": "1000000",
            "SALESCORE_RATE_LIMIT_BURST": "1000000",
            "SALESCORE_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE": "1000000"}
    return env


@contextlib.contextmanager
def running_server(*serve_args: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """A started, ready server (`serve` given `serve_args`, its environment `env` on top of
    `server_env`'s); stopped (and `stopped` filled in) when the block ends."""
    command = salescore()
    scratch = Path(tempfile.mkdtemp(prefix="salescore-bench-"))
    log_path = scratch / "server.log"
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    env = server_env(scratch / "data") | (env or {})
    with httpx.Client(base_url=base_url, timeout=1.0, trust_env=False) as probe, \
            log_path.open("wb") as log:
        began = time.perf_counter()
        process = subprocess.Popen(
            [command, "serve", "--host", HOST, "--port", str(port), *serve_args],
            env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        server = Server(process=process, base_url=base_url, env=env,
                        embedded_database=not env.get("SALESCORE_DATABASE_URL"))
        try:
            server.ready_seconds = wait_ready(process, probe, began=began, log_path=log_path)
            yield server
        finally:
            server.stopped = stop(process, data_dir=scratch / "data", log_path=log_path)
            shutil.rmtree(scratch, ignore_errors=True)


def wait_ready(process: subprocess.Popen[bytes], probe: httpx.Client, *, began: float,
               log_path: Path) -> float:
    """Seconds from `began` to the first 200 from /readyz."""
    while time.perf_counter() - began < READY_TIMEOUT:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited {process.returncode} before it was ready:"
                               f"\n{log_tail(log_path)}")
        with contextlib.suppress(httpx.TransportError):
            if probe.get("/readyz").status_code == 200:
                return time.perf_counter() - began
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"not ready after {READY_TIMEOUT:g} s:\n{log_tail(log_path)}")


def stop(process: subprocess.Popen[bytes], *, data_dir: Path, log_path: Path) -> Stopped:
    began = time.perf_counter()
    killed = False
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            killed = True
            process.kill()
            process.wait(timeout=10)
    seconds = time.perf_counter() - began
    left = stop_leftover_database(data_dir / "pg")
    problems = [line for line in log_path.read_text(errors="replace").splitlines()
                if _PROBLEM.search(line)]
    return Stopped(exit_code=process.returncode, seconds=seconds, killed=killed,
                   database_left_running=left, log_problems=tuple(problems))


def stop_leftover_database(pg_dir: Path, timeout: float = 10.0) -> bool:
    """True if the embedded PostgreSQL outlived the server (it is then asked to stop)."""
    pid_file = pg_dir / "postmaster.pid"
    deadline = time.perf_counter() + timeout
    while pid_file.exists() and time.perf_counter() < deadline:
        time.sleep(0.1)
    if not pid_file.exists():
        return False
    with contextlib.suppress(OSError, ValueError, IndexError):
        os.kill(int(pid_file.read_text().splitlines()[0]), signal.SIGINT)  # fast shutdown
        end = time.perf_counter() + timeout
        while pid_file.exists() and time.perf_counter() < end:
            time.sleep(0.1)
    return True


def log_tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
