"""`salescore create-organization` as a real process on the test database: the starter
setup unless `--empty`, and an admin e-mail of another organization refused (exit code 2,
the reason as JSON on stderr) unless `--allow-shared-email`."""

import json
import secrets
import subprocess
from pathlib import Path
from typing import Any

from httpx import AsyncClient

from tests.e2e.server_process import BIN, env_with


def _create(database_url: str, data_dir: Path, email: str,
            *options: str) -> subprocess.CompletedProcess[str]:
    env = env_with(database_url=database_url, data_dir=str(data_dir), log_level="warning")
    return subprocess.run([str(BIN), "create-organization", "Nordlys", "--admin-email", email,
                           "--admin-password", "s3cret-pass", *options],
                          env=env, capture_output=True, text=True, timeout=60, check=False)


def _made(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    made: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(made) == {"organization_id", "user_id", "api_key"}
    return made


async def _names(client: AsyncClient, api_key: str, path: str) -> list[str]:
    response = await client.get(path, headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["data"]]


def _email() -> str:
    return f"admin-{secrets.token_hex(4)}@cli.test"


async def test_a_new_organization_gets_the_starter_setup(
        database_url: str, tmp_path: Path, client: AsyncClient):
    made = _made(_create(database_url, tmp_path, _email()))
    assert await _names(client, made["api_key"], "/v1/sales-processes") == ["Standard"]
    assert await _names(client, made["api_key"], "/v1/lists/loss-reasons") == [
        "Price", "Chose a competitor", "No budget", "No decision", "Other"]
    assert len(await _names(client, made["api_key"], "/v1/lists/sources")) == 5


async def test_empty_gives_an_organization_without_it(
        database_url: str, tmp_path: Path, client: AsyncClient):
    made = _made(_create(database_url, tmp_path, _email(), "--empty"))
    for path in ("/v1/sales-processes", "/v1/lists/loss-reasons", "/v1/lists/sources"):
        assert await _names(client, made["api_key"], path) == [], path


async def test_an_email_of_another_organization_needs_allow_shared_email(
        database_url: str, tmp_path: Path):
    email = _email()
    first = _made(_create(database_url, tmp_path, email, "--empty"))
    refused = _create(database_url, tmp_path, email.upper())
    assert refused.returncode == 2, refused.stderr
    assert refused.stdout == ""
    error = json.loads(refused.stderr.strip().splitlines()[-1])["error"]
    assert "another organization" in error
    assert "--allow-shared-email" in error and "another address" in error
    shared = _made(_create(database_url, tmp_path, email, "--allow-shared-email"))
    assert shared["organization_id"] != first["organization_id"]
