"""Stopping `salescore serve` with SIGTERM, as systemd, Docker and Kubernetes do: it stops
taking connections, lets requests in flight finish within SALESCORE_SHUTDOWN_GRACE_SECONDS,
exits 0, and stops the embedded PostgreSQL unless another command on the data dir still
uses it."""

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.server_process import (
    Serving,
    alive,
    create_organization,
    database_stopped,
    env_with,
    postmaster_pid,
    refuses_connections,
    slow_upload,
    start_serving,
    stop,
)

Launch = Callable[[dict[str, str]], Serving]


@pytest.fixture
def launch() -> Iterator[Launch]:
    """Starts `salescore serve` processes; those still running after the test are killed."""
    started: list[Serving] = []

    def start(env: dict[str, str]) -> Serving:
        started.append(start_serving(env))
        return started[-1]

    yield start
    for server in started:
        if server.process.poll() is None:
            stop(server.process, signal.SIGKILL)


def _exit_within(process: subprocess.Popen[bytes], seconds: float) -> float | None:
    """The seconds until the process exited, None if it still ran after `seconds`."""
    started = time.monotonic()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None
    return time.monotonic() - started


def _told_to_retry(answer: Future[httpx.Response]) -> bool:
    """The client was told in the service's own words that its request did not finish: a
    503 problem with a Retry-After, not the server's bare-text 500."""
    response = answer.result()
    return (response.status_code == 503
            and response.headers["content-type"] == "application/problem+json"
            and response.json()["status"] == 503 and "retry-after" in response.headers)


def test_sigterm_lets_the_request_in_flight_finish_then_stops_the_embedded_database(
        data_dir: Path, launch: Launch):
    grace = 8
    env = env_with(data_dir=str(data_dir), log_level="warning",
                   shutdown_grace_seconds=str(grace))
    server = launch(env)
    api_key = create_organization(env, "slow@acme.test")["api_key"]
    postmaster = postmaster_pid(data_dir)
    assert postmaster is not None and alive(postmaster)
    with slow_upload(server.base, api_key, seconds=3) as answer:
        server.process.send_signal(signal.SIGTERM)
        assert refuses_connections(server.base), "new connections still accepted"
        assert not answer.done(), "the request ended before the server stopped listening"
        took = _exit_within(server.process, grace)
    assert answer.result().status_code == 201, answer.result().text
    assert took is not None, "serve outlived its grace period"
    assert server.process.returncode == 0, server.output()
    assert database_stopped(postmaster, data_dir), "the embedded PostgreSQL outlived serve"


def test_sigterm_to_serve_leaves_the_embedded_database_to_another_command_using_it(
        data_dir: Path, launch: Launch):
    env = env_with(data_dir=str(data_dir), log_level="warning")
    first = launch(env)
    second = launch(env)
    api_key = create_organization(env, "shared@acme.test")["api_key"]
    postmaster = postmaster_pid(data_dir)
    assert postmaster is not None
    stop(first.process, signal.SIGTERM)
    assert first.process.returncode == 0, first.output()
    assert alive(postmaster) and postmaster_pid(data_dir) == postmaster
    me = httpx.get(f"{second.base}/v1/me", headers={"Authorization": f"Bearer {api_key}"})
    assert me.status_code == 200, me.text
    stop(second.process, signal.SIGTERM)
    assert second.process.returncode == 0, second.output()
    assert database_stopped(postmaster, data_dir), "the last command left the embedded PostgreSQL"


def test_a_request_running_past_the_grace_period_gets_503_and_does_not_keep_serve_alive(
        data_dir: Path, launch: Launch):
    grace = 1
    env = env_with(data_dir=str(data_dir), log_level="warning",
                   shutdown_grace_seconds=str(grace))
    server = launch(env)
    api_key = create_organization(env, "stuck@acme.test")["api_key"]
    postmaster = postmaster_pid(data_dir)
    assert postmaster is not None
    with slow_upload(server.base, api_key, seconds=20) as answer:
        server.process.send_signal(signal.SIGTERM)
        took = _exit_within(server.process, grace + 4)
        assert took is not None, "a request past the grace period kept serve alive"
    assert _told_to_retry(answer), answer.result().text
    assert server.process.returncode == 0, server.output()
    assert database_stopped(postmaster, data_dir), "the embedded PostgreSQL outlived serve"


def test_after_serve_is_killed_the_last_command_still_stops_the_embedded_database(
        data_dir: Path, launch: Launch):
    """A killed process cannot say it is done with the server, nor can a pid that another
    program now has: the next command that leaves no live user behind stops it."""
    env = env_with(data_dir=str(data_dir), log_level="warning")
    killed = launch(env)
    postmaster = postmaster_pid(data_dir)
    assert postmaster is not None
    stop(killed.process, signal.SIGKILL)
    assert alive(postmaster), "the embedded PostgreSQL went down with serve"
    users = data_dir / "pg-users.json"
    reused = [os.getpid(), psutil.Process().create_time() - 3600]  # our pid, not our start
    users.write_text(json.dumps([*json.loads(users.read_text()), reused]))
    joined = launch(env)
    assert postmaster_pid(data_dir) == postmaster, "a second server was started"
    stop(joined.process, signal.SIGTERM)
    assert joined.process.returncode == 0, joined.output()
    assert database_stopped(postmaster, data_dir), "the last command left the embedded PostgreSQL"
