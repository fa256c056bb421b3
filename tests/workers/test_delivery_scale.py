"""Two workers at once: every delivery is made once, none twice, none lost."""

import asyncio
from collections import Counter

from fastapi import FastAPI

from tests.factories import Tenant
from tests.workers.receiver import Receiver
from tests.workers.webhook_support import (
    add_endpoint,
    emit,
    hook_app,
    hook_settings,
    hook_tenant,
    receiver,
    rows,
    unique_path,
    worker,
)

__all__ = ["hook_app", "hook_settings", "hook_tenant", "receiver"]
EVENTS = 2000


async def test_two_workers_deliver_2000_events_to_3_endpoints_once_each(
        hook_app: FastAPI, hook_tenant: Tenant, receiver: Receiver) -> None:
    paths = [unique_path() for _ in range(3)]
    endpoints = []
    for path in paths:
        endpoint_id, secret = await add_endpoint(hook_app, hook_tenant, receiver.url(path))
        receiver.expect(path, [secret])
        endpoints.append(endpoint_id)
    async with worker(hook_app), worker(hook_app):
        emitted: list[int] = []
        for _ in range(EVENTS // 250):  # transactions of 250 events, as the workers run
            emitted += await emit(hook_app, hook_tenant, 250)
            await asyncio.sleep(0.05)
        await receiver.arrived(3 * EVENTS, within=180)
        await asyncio.sleep(0.5)  # a repeat, if any, would come now
    for path in paths:
        seen = Counter(r.webhook_id for r in receiver.received(path))
        assert set(seen) == {str(e) for e in emitted}
        assert set(seen.values()) == {1}
        assert all(r.verified_by for r in receiver.received(path))
    [summary] = await rows(
        hook_app, "SELECT count(*) AS deliveries, "
                  "count(*) FILTER (WHERE status = 'succeeded' AND attempt_count = 1) AS once "
                  "FROM webhook_deliveries WHERE endpoint_id = ANY(:endpoints)",
        endpoints=endpoints)
    assert summary == {"deliveries": 3 * EVENTS, "once": 3 * EVENTS}
