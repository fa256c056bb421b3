"""The real server answers an over-long request line with 414 and over-large header fields
with 431, as problem+json: from the app below the protocol's hard limits, from the protocol
above them (where uvicorn alone answered a bare text/plain 400)."""

import json
import signal
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.server_process import env_with, start_serving, stop


@pytest.fixture(scope="module")
def base(database_url: str) -> Iterator[str]:
    server = start_serving(env_with(database_url=database_url, log_level="warning",
                                    jwt_secret="e2e-secret"))
    try:
        yield server.base
    finally:
        stop(server.process, signal.SIGINT)


def _raw(base: str, head: bytes) -> tuple[str, dict[str, str], dict[str, Any]]:
    """Sends `head` on a connection of its own and reads the answer to its end: the status
    line, the headers, the JSON body."""
    url = httpx.URL(base)
    with socket.create_connection((url.host, url.port), timeout=10) as connection:
        connection.sendall(head)
        answer = b""
        while chunk := connection.recv(65_536):
            answer += chunk
    start, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = start.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip()
               for name, _, value in (line.partition(":") for line in lines)}
    return status, headers, json.loads(body)


def test_a_query_of_100000_characters_is_a_414_problem(base: str):
    status, headers, body = _raw(base, b"GET /healthz?q=" + b"a" * 100_000
                                 + b" HTTP/1.1\r\nHost: salescore\r\n\r\n")
    assert status.startswith("HTTP/1.1 414 ")
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert body["status"] == 414
    assert body["type"].startswith("urn:salescore:problem:")


def test_a_query_over_the_setting_is_refused_by_the_app(base: str):
    response = httpx.get(f"{base}/healthz", params={"q": "a" * 20_000})
    assert response.status_code == 414
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_header_fields_over_the_setting_are_a_431_problem(base: str):
    response = httpx.get(f"{base}/healthz", headers={"X-Filler": "x" * 20_000})
    assert response.status_code == 431
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_a_header_block_of_a_megabyte_is_a_431_problem_read_to_its_end(base: str):
    status, headers, body = _raw(base, b"GET /healthz HTTP/1.1\r\nHost: salescore\r\n"
                                 + b"X-Filler: " + b"x" * 1_000_000 + b"\r\n\r\n")
    assert status.startswith("HTTP/1.1 431 ")
    assert headers["content-type"] == "application/problem+json"
    assert body["status"] == 431


def test_the_server_serves_on_after_refusing(base: str):
    assert httpx.get(f"{base}/healthz").status_code == 200
