"""Login throttling: failed logins slow down, then lock, alike for known and unknown emails."""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from salescore.domain.access.login_throttle import LoginThrottled, ThrottlePolicy
from salescore.services.access.login_throttle import LoginThrottle
from salescore.settings import Settings
from tests.api.access.test_rate_limits import client_at, limited_app
from tests.factories import PASSWORD, Tenant, new_tenant

LOCK_SECONDS = 60


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def throttled(settings: Settings, database_url: str, *, free_failures: int,
                    lock_failures: int, clock: Clock | None = None,
                    **overrides: Any) -> AsyncIterator[tuple[FastAPI, Tenant]]:
    """An app that throttles logins (with `clock`, when given), and a tenant in it."""
    async with limited_app(settings, database_url, login_free_failures=free_failures,
                           login_lock_failures=lock_failures,
                           login_lock_seconds=LOCK_SECONDS, **overrides) as app:
        if clock is not None:
            app.state.salescore = replace(app.state.salescore, logins=LoginThrottle(
                ThrottlePolicy(free_failures=free_failures, lock_failures=lock_failures,
                               lock_seconds=LOCK_SECONDS), clock=clock))
        yield app, await new_tenant(app, "Acme")


async def _log_in(client: AsyncClient, email: str, password: str = "wrong password") -> Response:
    return await client.post("/v1/auth/token", data={"username": email, "password": password})


def _unknown_email() -> str:
    return f"nobody-{secrets.token_hex(4)}@acme.test"


def _answer(response: Response) -> tuple[int, str | None, dict[str, Any]]:
    body = {k: v for k, v in response.json().items() if k != "request_id"}
    return response.status_code, response.headers.get("retry-after"), body


async def test_failed_logins_lock_a_known_and_an_unknown_email_alike(settings: Settings,
                                                                     database_url: str):
    async with throttled(settings, database_url, free_failures=3, lock_failures=3,
                         clock=Clock()) as (app, tenant), client_at(app, "10.0.0.1") as client:
        known = [await _log_in(client, tenant.admin_email) for _ in range(4)]
        unknown_email = _unknown_email()
        unknown = [await _log_in(client, unknown_email) for _ in range(4)]
        right_password = await _log_in(client, tenant.admin_email, PASSWORD)
    assert [r.status_code for r in known] == [401, 401, 401, 429]
    assert [r.status_code for r in unknown] == [401, 401, 401, 429]
    assert [_answer(r) for r in known] == [_answer(r) for r in unknown]
    assert known[-1].headers["retry-after"] == str(LOCK_SECONDS)
    assert known[-1].headers["content-type"] == "application/problem+json"
    assert right_password.status_code == 429


async def test_past_the_free_failures_each_attempt_must_wait_longer(settings: Settings,
                                                                   database_url: str):
    clock = Clock()
    async with throttled(settings, database_url, free_failures=2, lock_failures=5,
                         clock=clock) as (app, tenant), client_at(app, "10.0.0.1") as client:
        free = [(await _log_in(client, tenant.admin_email)).status_code for _ in range(2)]
        too_soon = await _log_in(client, tenant.admin_email)
        clock.now += 1
        after_a_second = await _log_in(client, tenant.admin_email)
        next_too_soon = await _log_in(client, tenant.admin_email)
    assert free == [401, 401]
    assert (too_soon.status_code, too_soon.headers["retry-after"]) == (429, "1")
    assert after_a_second.status_code == 401
    assert (next_too_soon.status_code, next_too_soon.headers["retry-after"]) == (429, "2")


async def test_a_lock_ends_after_its_time(settings: Settings, database_url: str):
    clock = Clock()
    async with throttled(settings, database_url, free_failures=2, lock_failures=2,
                         clock=clock) as (app, tenant), client_at(app, "10.0.0.1") as client:
        for _ in range(2):
            await _log_in(client, tenant.admin_email)
        clock.now += LOCK_SECONDS - 1
        still_locked = await _log_in(client, tenant.admin_email, PASSWORD)
        clock.now += 1
        unlocked = await _log_in(client, tenant.admin_email, PASSWORD)
    assert (still_locked.status_code, still_locked.headers["retry-after"]) == (429, "1")
    assert unlocked.status_code == 200


async def test_a_successful_login_resets_the_emails_count(settings: Settings,
                                                          database_url: str):
    async with throttled(settings, database_url, free_failures=3, lock_failures=3,
                         clock=Clock()) as (app, tenant), client_at(app, "10.0.0.1") as client:
        before = [(await _log_in(client, tenant.admin_email)).status_code
                  for _ in range(2)]
        success = await _log_in(client, tenant.admin_email, PASSWORD)
        after = [(await _log_in(client, tenant.admin_email)).status_code
                 for _ in range(4)]
    assert before == [401, 401]
    assert success.status_code == 200
    assert after == [401, 401, 401, 429]


async def test_failures_from_one_address_lock_it_for_every_email(settings: Settings,
                                                                  database_url: str):
    async with (throttled(settings, database_url, free_failures=1, lock_failures=1,
                          clock=Clock()) as (app, tenant),
                client_at(app, "10.0.0.1") as client, client_at(app, "10.0.0.2") as other):
        guesses = [(await _log_in(client, _unknown_email())).status_code for _ in range(10)]
        locked = await _log_in(client, tenant.admin_email, PASSWORD)
        elsewhere = await _log_in(other, tenant.admin_email, PASSWORD)
    assert guesses == [401] * 10
    assert locked.status_code == 429
    assert elsewhere.status_code == 200


async def test_login_throttling_follows_the_settings(settings: Settings, database_url: str):
    async with throttled(settings, database_url, free_failures=2, lock_failures=2) as (
            app, tenant), client_at(app, "10.0.0.1") as client:
        answers = [await _log_in(client, tenant.admin_email) for _ in range(3)]
    assert [r.status_code for r in answers] == [401, 401, 429]
    assert LOCK_SECONDS - 5 <= int(answers[-1].headers["retry-after"]) <= LOCK_SECONDS


async def test_no_lock_failures_means_no_login_throttling(settings: Settings,
                                                          database_url: str):
    async with throttled(settings, database_url, free_failures=0, lock_failures=0) as (
            app, tenant), client_at(app, "10.0.0.1") as client:
        answers = [(await _log_in(client, tenant.admin_email)).status_code
                   for _ in range(4)]
    assert answers == [401] * 4


def test_an_attempt_that_could_not_be_judged_counts_for_nothing():
    throttle = LoginThrottle(ThrottlePolicy(free_failures=1, lock_failures=1,
                                            lock_seconds=LOCK_SECONDS), clock=Clock())
    throttle.admit(email="a@x.test", address="10.0.0.1")
    throttle.not_decided(email="a@x.test", address="10.0.0.1")
    throttle.admit(email="A@X.test ", address="10.0.0.1")
    with pytest.raises(LoginThrottled):
        throttle.admit(email="a@x.test", address="10.0.0.1")
