"""The real server process, as `make serve` runs it: the README's tour, Ctrl-C, restart."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

BIN = Path(sys.executable).parent / "salescore"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESCORE_")}
    env.update({f"SALESCORE_{k.upper()}": v for k, v in settings.items()})
    return env


@contextmanager
def serving(env: dict[str, str]) -> Iterator[tuple[str, float]]:
    """A `salescore serve` process; yields its base URL and seconds until /readyz said 200."""
    port = _free_port()
    started = time.monotonic()
    process = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        ready_after = _wait_ready(base, process, started)
        yield base, ready_after
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0, process.stdout.read().decode() if process.stdout else ""


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


def _create_organization(env: dict[str, str], email: str) -> dict[str, object]:
    result = subprocess.run(
        [str(BIN), "create-organization", "Acme", "--admin-email", email,
         "--admin-password", "s3cret-pass", "--currency", "SEK"],
        env=env, capture_output=True, text=True, timeout=60, check=True)
    created: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return created


def _tour(base: str, email: str) -> dict[str, object]:
    token = httpx.post(f"{base}/v1/auth/token",
                       data={"username": email, "password": "s3cret-pass"}).json()
    me = httpx.get(f"{base}/v1/me",
                   headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200, me.text
    body: dict[str, object] = me.json()
    return body


def test_the_readme_tour_against_a_configured_database(database_url: str):
    env = _env(database_url=database_url, log_level="warning", jwt_secret="e2e-secret")
    with serving(env) as (base, _):
        created = _create_organization(env, "tour@acme.test")
        assert set(created) == {"organization_id", "user_id", "api_key"}
        me = _tour(base, "tour@acme.test")
        assert me["organization_id"] == created["organization_id"]
        assert me["base_currency"] == "SEK"
        key_me = httpx.get(f"{base}/v1/me",
                           headers={"Authorization": f"Bearer {created['api_key']}"})
        assert key_me.json()["role"] == "integration"


def test_the_embedded_database_survives_a_restart_and_stops_with_the_server(tmp_path: Path):
    env = _env(data_dir=str(tmp_path / "data"), log_level="warning")
    with serving(env) as (base, _):
        _create_organization(env, "keep@acme.test")
        assert _tour(base, "keep@acme.test")["organization_name"] == "Acme"
    assert not _postgres_running(tmp_path), "the embedded PostgreSQL outlived the server"
    assert (tmp_path / "data" / "jwt-secret").exists()
    with serving(env) as (base, ready_after):
        assert _tour(base, "keep@acme.test")["organization_name"] == "Acme"
    assert ready_after < 30
    assert not _postgres_running(tmp_path)


def _postgres_running(data_root: Path) -> bool:
    for process in psutil.process_iter(attrs=["name", "cmdline"]):
        cmdline = " ".join(process.info.get("cmdline") or [])
        if process.info.get("name") == "postgres" and str(data_root) in cmdline:
            return True
    return False
