"""Recording an attempt, with the clock passed in: the schedule's next wait, an endpoint
failing since its first failure, five days of it disabling the endpoint and telling its
admins, a success clearing it, a lease lost meanwhile recording nothing."""

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from salescore.domain.integrations.delivery import AttemptResult
from salescore.repositories.integrations.deliveries import ClaimedDelivery, EndpointTarget
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.integrations.sending import record_attempt
from tests.factories import Tenant
from tests.opportunity_factories import sql
from tests.workers.webhook_support import (
    add_endpoint,
    deliveries_of,
    emit,
    hook_app,
    hook_settings,
    hook_tenant,
    rows,
)

__all__ = ["hook_app", "hook_settings", "hook_tenant"]
NOW = datetime(2031, 3, 3, 12, 0, tzinfo=UTC)
SCHEDULE = (0, 5, 300)
URL = "https://hooks.example.net/failing"


async def leased(app: FastAPI, delivery_id: int) -> ClaimedDelivery:
    """The delivery as a worker's claim would give it."""
    [row] = await rows(app, "UPDATE webhook_deliveries SET leased_until = now() + "
                            "interval '60 seconds' WHERE id = :id RETURNING *", id=delivery_id)
    return ClaimedDelivery(
        organization_id=row["organization_id"], id=row["id"], endpoint_id=row["endpoint_id"],
        event_id=row["event_id"], attempts_due=row["attempts_due"], lease=row["leased_until"],
        target=EndpointTarget(URL, "unused", None, None), event={"id": row["event_id"]})


async def record(app: FastAPI, claim: ClaimedDelivery, status: int, now: datetime) -> bool:
    return await record_attempt(UnitOfWork(app.state.salescore.sessions), claim=claim,
                                result=AttemptResult(now, 12, status_code=status),
                                schedule=SCHEDULE, now=now, jitter=1.0)


async def failing_endpoint(app: FastAPI, tenant: Tenant,
                           since: datetime | None) -> tuple[int, list[int]]:
    endpoint_id, _ = await add_endpoint(app, tenant, URL)
    await sql(app, "UPDATE webhook_endpoints SET failing_since = :since WHERE id = :id",
              since=since, id=endpoint_id)
    await emit(app, tenant, 2)
    return endpoint_id, [d["id"] for d in await deliveries_of(app, endpoint_id)]


async def endpoint(app: FastAPI, endpoint_id: int) -> dict[str, object]:
    [found] = await rows(app, "SELECT * FROM webhook_endpoints WHERE id = :id", id=endpoint_id)
    return found


async def add_user(app: FastAPI, tenant: Tenant, role: str, *, active: bool = True) -> int:
    user_id: int = await sql(
        app, "INSERT INTO users (organization_id, name, initials, email, role, active) "
             "VALUES (:org, :name, 'XX', :email, :role, :active) RETURNING id",
        org=tenant.organization_id, name=f"{role} user", role=role, active=active,
        email=f"{role}-{active}-{tenant.organization_id}@x.test")
    return user_id


async def test_five_days_without_a_success_disable_the_endpoint_and_tell_its_admins(
        hook_app: FastAPI, hook_tenant: Tenant) -> None:
    other_admin = await add_user(hook_app, hook_tenant, "admin")
    await add_user(hook_app, hook_tenant, "admin", active=False)
    await add_user(hook_app, hook_tenant, "seller")
    endpoint_id, (first, second) = await failing_endpoint(hook_app, hook_tenant,
                                                          NOW - timedelta(days=5))
    assert await record(hook_app, await leased(hook_app, first), 500, NOW)
    disabled = await endpoint(hook_app, endpoint_id)
    assert not disabled["active"] and disabled["disabled_at"] == NOW
    assert disabled["disabled_reason"] == "no success for five days"
    found = await deliveries_of(hook_app, endpoint_id)
    assert [(d["status"], d["last_error"]) for d in found] == [
        ("failed", "endpoint disabled"), ("failed", "endpoint disabled")]
    assert found[0]["attempt_count"] == 1 and found[0]["last_status_code"] == 500
    told = await rows(hook_app, "SELECT user_id, text FROM notifications WHERE "
                                "organization_id = :org AND type = 'webhook_endpoint_disabled' "
                                "ORDER BY user_id", org=hook_tenant.organization_id)
    assert [t["user_id"] for t in told] == [hook_tenant.admin_id, other_admin]
    assert told[0]["text"] == (f"The webhook endpoint {URL} was disabled: "
                               "no success for five days")
    assert second in [d["id"] for d in found]
    [event] = await rows(hook_app, "SELECT * FROM events WHERE organization_id = :org AND "
                                   "type = 'webhook_endpoint.updated'",
                         org=hook_tenant.organization_id)
    assert event["aggregate_id"] == endpoint_id
    assert event["actor"] == {"type": "system", "id": "webhook_delivery"}
    assert event["data"]["changes"]["disabled_reason"]["to"] == "no success for five days"


async def test_less_than_five_days_of_failures_retry_on_the_schedule(
        hook_app: FastAPI, hook_tenant: Tenant) -> None:
    endpoint_id, (first, _) = await failing_endpoint(
        hook_app, hook_tenant, NOW - timedelta(days=5) + timedelta(seconds=1))
    assert await record(hook_app, await leased(hook_app, first), 503, NOW)
    assert (await endpoint(hook_app, endpoint_id))["active"]
    [retried, _] = await deliveries_of(hook_app, endpoint_id)
    assert retried["status"] == "pending" and retried["leased_until"] is None
    assert retried["next_attempt_at"] == NOW + timedelta(seconds=5)
    assert (retried["attempt_count"], retried["attempts_due"]) == (1, 1)


async def test_the_first_failure_marks_the_endpoint_failing_and_a_success_clears_it(
        hook_app: FastAPI, hook_tenant: Tenant) -> None:
    endpoint_id, (first, second) = await failing_endpoint(hook_app, hook_tenant, None)
    assert await record(hook_app, await leased(hook_app, first), 500, NOW)
    assert (await endpoint(hook_app, endpoint_id))["failing_since"] == NOW
    later = NOW + timedelta(days=3)
    assert await record(hook_app, await leased(hook_app, second), 500, later)
    assert (await endpoint(hook_app, endpoint_id))["failing_since"] == NOW  # kept
    assert await record(hook_app, await leased(hook_app, first), 204, later)
    assert (await endpoint(hook_app, endpoint_id))["failing_since"] is None
    [succeeded, _] = await deliveries_of(hook_app, endpoint_id)
    assert succeeded["status"] == "succeeded" and succeeded["succeeded_at"] == later


async def test_the_last_attempt_of_the_schedule_fails_the_delivery(
        hook_app: FastAPI, hook_tenant: Tenant) -> None:
    endpoint_id, (first, _) = await failing_endpoint(hook_app, hook_tenant, None)
    await sql(hook_app, "UPDATE webhook_deliveries SET attempts_due = 2 WHERE id = :id",
              id=first)
    assert await record(hook_app, await leased(hook_app, first), 500, NOW)
    [failed, _] = await deliveries_of(hook_app, endpoint_id)
    assert failed["status"] == "failed" and failed["attempts_due"] == 3


async def test_an_attempt_whose_lease_was_lost_is_not_recorded(
        hook_app: FastAPI, hook_tenant: Tenant) -> None:
    endpoint_id, (first, _) = await failing_endpoint(hook_app, hook_tenant, None)
    stale = await leased(hook_app, first)
    await leased(hook_app, first)  # another worker took it once the lease had run out
    assert not await record(hook_app, stale, 200, NOW)
    [untouched, _] = await deliveries_of(hook_app, endpoint_id)
    assert untouched["status"] == "pending" and untouched["attempt_count"] == 0
    assert await rows(hook_app, "SELECT * FROM webhook_attempts WHERE delivery_id = :id",
                      id=first) == []
