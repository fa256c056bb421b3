"""The real server process, as `make serve` runs it: the README's tour, Ctrl-C, restart."""

from pathlib import Path

import httpx

from tests.e2e.server_process import create_organization, env_with, postgres_running, serving


def _tour(base: str, email: str) -> dict[str, object]:
    token = httpx.post(f"{base}/v1/auth/token",
                       data={"username": email, "password": "s3cret-pass"}).json()
    me = httpx.get(f"{base}/v1/me",
                   headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200, me.text
    body: dict[str, object] = me.json()
    return body


def test_the_readme_tour_against_a_configured_database(database_url: str):
    env = env_with(database_url=database_url, log_level="warning", jwt_secret="e2e-secret")
    with serving(env) as (base, _):
        created = create_organization(env, "tour@acme.test")
        assert set(created) == {"organization_id", "user_id", "api_key"}
        me = _tour(base, "tour@acme.test")
        assert me["organization_id"] == created["organization_id"]
        assert me["base_currency"] == "SEK"
        key_me = httpx.get(f"{base}/v1/me",
                           headers={"Authorization": f"Bearer {created['api_key']}"})
        assert key_me.json()["role"] == "integration"


def test_the_embedded_database_survives_a_restart_and_stops_with_the_server(tmp_path: Path):
    env = env_with(data_dir=str(tmp_path / "data"), log_level="warning")
    with serving(env) as (base, _):
        create_organization(env, "keep@acme.test")
        assert _tour(base, "keep@acme.test")["organization_name"] == "Acme"
    assert not postgres_running(tmp_path), "the embedded PostgreSQL outlived the server"
    assert (tmp_path / "data" / "jwt-secret").exists()
    with serving(env) as (base, ready_after):
        assert _tour(base, "keep@acme.test")["organization_name"] == "Acme"
    assert ready_after < 30
    assert not postgres_running(tmp_path)

