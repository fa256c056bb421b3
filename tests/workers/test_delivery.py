"""The delivery loop against a receiver on 127.0.0.1: retries on the schedule, 410,
Retry-After, signatures after a rotation, a transaction that commits late, stopping."""

import json
import threading
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from salescore import __version__
from salescore.domain.events import DomainEvent
from salescore.repositories.feed.events import EventRepository
from salescore.settings import Settings
from tests.factories import Tenant, asgi_client, read_events
from tests.workers.receiver import Answer, Received, Receiver, Respond, held_until
from tests.workers.webhook_support import (
    add_endpoint,
    deliveries_of,
    emit,
    hook_app,
    hook_settings,
    hook_tenant,
    receiver,
    rows,
    settled,
    unique_path,
    worker,
)

__all__ = ["hook_app", "hook_settings", "hook_tenant", "receiver"]


def answers(*statuses: int, **headers: str) -> Respond:
    """Answers with each status in turn, then with the last one."""
    given = list(statuses)

    def respond(_: Received) -> Answer:
        status = given.pop(0) if len(given) > 1 else given[0]
        return Answer(status, dict(headers) if status in (429, 503) else {})

    return respond



async def test_a_failed_attempt_is_retried_on_the_schedule_with_the_same_webhook_id(
        hook_app: FastAPI, hook_tenant: Tenant, receiver: Receiver) -> None:
    path = unique_path()
    endpoint_id, secret = await add_endpoint(hook_app, hook_tenant, receiver.url(path))
    receiver.expect(path, [secret], answers(500, 200))
    async with worker(hook_app):
        [event_id] = await emit(hook_app, hook_tenant)
        [delivery] = await settled(hook_app, endpoint_id, 1)
    first, second = receiver.received(path)
    assert delivery["status"] == "succeeded" and delivery["attempt_count"] == 2
    assert delivery["succeeded_at"] is not None and delivery["leased_until"] is None
    assert first.webhook_id == second.webhook_id == str(event_id)
    assert first.verified_by == second.verified_by == (secret,)
    assert second.at - first.at >= 0.85  # the schedule's 1 s, times at least 0.9
    attempts = await rows(hook_app, "SELECT * FROM webhook_attempts WHERE delivery_id = :id "
                                    "ORDER BY id", id=delivery["id"])
    assert [a["status_code"] for a in attempts] == [500, 200]
    assert all(a["duration_ms"] >= 0 and a["error"] is None for a in attempts)
    # Not a public address: no excerpt of the answer is kept.
    assert all(a["response_excerpt"] is None for a in attempts)


async def test_the_body_is_the_event_as_the_feed_gives_it(
        hook_app: FastAPI, hook_tenant: Tenant, receiver: Receiver) -> None:
    path = unique_path()
    endpoint_id, secret = await add_endpoint(hook_app, hook_tenant, receiver.url(path))
    receiver.expect(path, [secret])
    async with worker(hook_app):
        await emit(hook_app, hook_tenant)
        await settled(hook_app, endpoint_id, 1)
    [message] = receiver.received(path)
    async for client in asgi_client(hook_app):
        fed = await read_events(client, hook_tenant)
    assert json.loads(message.body) == next(e for e in fed if str(e["id"]) == message.webhook_id)
    assert message.headers["content-type"] == "application/json"
    assert message.headers["user-agent"] == f"salescore-webhooks/{__version__}"
    assert abs(int(message.headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 60


async def test_a_410_disables_the_endpoint_and_fails_its_pending_deliveries(
        hook_app: FastAPI, hook_settings: Settings, hook_tenant: Tenant,
        receiver: Receiver) -> None:
    path = unique_path()
    url = receiver.url(path)
    endpoint_id, secret = await add_endpoint(hook_app, hook_tenant, url)
    receiver.expect(path, [secret], answers(410))
    one_at_a_time = hook_settings.model_copy(update={"worker_concurrency": 1})
    async with worker(hook_app, settings=one_at_a_time):
        await emit(hook_app, hook_tenant, 3)
        found = await settled(hook_app, endpoint_id, 3)
    assert len(receiver.received(path)) == 1
    assert [d["status"] for d in found] == ["failed"] * 3
    assert sorted(d["last_error"] or "" for d in found) == ["", "endpoint disabled",
                                                            "endpoint disabled"]
    assert [d["last_status_code"] for d in found if d["attempt_count"]] == [410]
    [endpoint] = await rows(hook_app, "SELECT * FROM webhook_endpoints WHERE id = :id",
                            id=endpoint_id)
    assert not endpoint["active"] and endpoint["disabled_at"] is not None
    assert endpoint["disabled_reason"] == "410 Gone from the endpoint"
    [told] = await rows(hook_app, "SELECT * FROM notifications WHERE organization_id = :org "
                                  "AND type = 'webhook_endpoint_disabled'",
                        org=hook_tenant.organization_id)
    assert told["user_id"] == hook_tenant.admin_id
    assert url in told["text"] and "410 Gone from the endpoint" in told["text"]


async def test_retry_after_on_a_429_is_waited_for(
        hook_app: FastAPI, hook_tenant: Tenant, receiver: Receiver) -> None:
    path = unique_path()
    endpoint_id, secret = await add_endpoint(hook_app, hook_tenant, receiver.url(path))
    receiver.expect(path, [secret], answers(429, 200, **{"Retry-After": "3"}))
    async with worker(hook_app):
        await emit(hook_app, hook_tenant)
        [delivery] = await settled(hook_app, endpoint_id, 1, within=15)
    first, second = receiver.received(path)
    assert second.at - first.at >= 2.9  # not the schedule's 1 s
    assert delivery["status"] == "succeeded"


async def test_after_a_rotation_both_secrets_sign_until_the_old_one_expires(
        hook_app: FastAPI, hook_tenant: Tenant, receiver: Receiver) -> None:
    rotated, expired = unique_path(), unique_path()
    now = datetime.now(UTC)
    first, old = await add_endpoint(hook_app, hook_tenant, receiver.url(rotated),
                                    previous="whsec_" + "b2xk" * 11,
                                    previous_expires_at=now + timedelta(hours=23))
    second, current = await add_endpoint(hook_app, hook_tenant, receiver.url(expired),
                                         previous="whsec_" + "b2xk" * 11,
                                         previous_expires_at=now - timedelta(seconds=1))
    receiver.expect(rotated, [old, "whsec_" + "b2xk" * 11])
    receiver.expect(expired, [current, "whsec_" + "b2xk" * 11])
    async with worker(hook_app):
        await emit(hook_app, hook_tenant)
        await settled(hook_app, first, 1)
        await settled(hook_app, second, 1)
    [both] = receiver.received(rotated)
    assert both.verified_by == (old, "whsec_" + "b2xk" * 11)
    assert len(both.headers["webhook-signature"].split(" ")) == 2
    [one] = receiver.received(expired)
    assert one.verified_by == (current,)


async def test_an_event_whose_transaction_commits_after_later_ones_is_delivered(
        hook_app: FastAPI, hook_tenant: Tenant, receiver: Receiver) -> None:
    path = unique_path()
    endpoint_id, secret = await add_endpoint(hook_app, hook_tenant, receiver.url(path))
    receiver.expect(path, [secret])
    async with worker(hook_app):
        held = hook_app.state.salescore.sessions()
        try:
            await EventRepository(held).append([(hook_tenant.organization_id, {},
                                                 DomainEvent("customer.created", "customer",
                                                             1, {}))])
            [later] = await emit(hook_app, hook_tenant)
            await receiver.arrived(1, path)
            await held.commit()
        finally:
            await held.close()
        await settled(hook_app, endpoint_id, 2)
    first, last = receiver.received(path)
    assert first.webhook_id == str(later)
    assert int(last.webhook_id) < later  # its id was drawn first, its commit came last


async def test_stopping_gives_back_the_leases_of_attempts_still_in_flight(
        hook_app: FastAPI, hook_settings: Settings, hook_tenant: Tenant,
        receiver: Receiver) -> None:
    path = unique_path()
    endpoint_id, secret = await add_endpoint(hook_app, hook_tenant, receiver.url(path))
    release, entered = threading.Event(), threading.Event()
    receiver.expect(path, [secret], held_until(release, entered=entered))
    hurried = hook_settings.model_copy(update={"shutdown_grace_seconds": 0})
    try:
        async with worker(hook_app, settings=hurried):
            await emit(hook_app, hook_tenant)
            await receiver.arrived(1, path)
            [leased] = await deliveries_of(hook_app, endpoint_id)
            assert leased["leased_until"] is not None
    finally:
        release.set()
    [given_back] = await deliveries_of(hook_app, endpoint_id)
    assert given_back["status"] == "pending" and given_back["leased_until"] is None
    assert given_back["attempt_count"] == 0
    receiver.answer_with(path, answers(200))
    async with worker(hook_app):
        [delivery] = await settled(hook_app, endpoint_id, 1)
    assert delivery["status"] == "succeeded" and len(receiver.received(path)) == 2

