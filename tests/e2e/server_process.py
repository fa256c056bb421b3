"""Running the real `salescore` command in tests: start `serve`, wait for it, stop it, and
look at the embedded PostgreSQL it shares with every command on its data dir."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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


def start_serving(env: dict[str, str]) -> Serving:
    """A `salescore serve` process that answered /readyz with 200."""
    port = free_port()
    started = time.monotonic()
    process = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=env,
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


def alive(pid: int) -> bool:
    """The process runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
