"""The scheduled jobs: each runs once per due time, whatever the number of workers.

- A worker looks for due jobs every `worker_poll_seconds`. It claims a job by locking its
  `scheduled_jobs` row while it is due (repositories/integrations/jobs.py), runs it, and in
  the same claiming transaction records the run (`last_run_at`, `last_error`) and the next
  due time, `every` after the run's start; then it commits, which lets the row go. Another
  worker skips the locked row, and then finds it not due.
- A job that fails records its error (and logs it) and is due again at its next interval,
  like one that succeeded; a worker that dies mid-run leaves the job due, for the next
  worker to run.
- Jobs: `expire_quotes` every minute (services/quotes/expiry.py), `prune` hourly (what
  `salescore prune` does: events past `event_retention_days`, idempotency keys past
  `idempotency_ttl_hours`), `disable_failing_endpoints` hourly: an active webhook endpoint
  failing for `FAILING_LIMIT` (five days) is disabled, `no success for five days`, and every
  active admin of its organization is told (`webhook_endpoint_disabled`, naming the URL),
  with a `webhook_endpoint.updated` event (its `changes` as an admin's disabling has
  them), in one transaction per endpoint.
- The time is the clock's (`clock`, UTC), passed to the jobs, so that tests move it."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from salescore.domain.integrations.delivery import (
    NO_SUCCESS,
)
from salescore.domain.integrations.webhooks import FAILING_LIMIT
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.feed.events import prune_events
from salescore.services.feed.idempotency import purge_keys
from salescore.services.integrations.sending import disable_and_tell
from salescore.services.quotes.expiry import expire_quotes
from salescore.workers.context import WorkerContext

log = logging.getLogger("salescore.scheduler")
Clock = Callable[[], datetime]
ENDPOINT_ACTOR: dict[str, Any] = {"type": "system", "id": "disable_failing_endpoints"}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Job:
    """A job, run every `every` by one worker at a time, at the time it is given."""

    name: str
    every: timedelta
    run: Callable[[WorkerContext, datetime], Awaitable[object]]


async def _expire_quotes(context: WorkerContext, now: datetime) -> int:
    return await expire_quotes(UnitOfWork(context.sessions), now=now)


async def _prune(context: WorkerContext, now: datetime) -> int:
    """What `salescore prune` does, with the same services."""
    settings = context.settings
    uow = UnitOfWork(context.sessions)
    await purge_keys(uow, now=now, ttl=timedelta(hours=settings.idempotency_ttl_hours))
    return await prune_events(uow, now=now,
                              retention=timedelta(days=settings.event_retention_days))


async def _disable_failing_endpoints(context: WorkerContext, now: datetime) -> int:
    """Disable every active endpoint failing since `FAILING_LIMIT` ago or earlier, telling
    its organization's active admins; returns how many were."""
    failing_before = now - FAILING_LIMIT
    uow = UnitOfWork(context.sessions)
    async with uow:
        failing = await uow.deliveries.failing_endpoints(failing_before)
    disabled = 0
    for organization_id, endpoint_id in failing:
        async with uow:
            url = await uow.deliveries.lock_failing_endpoint(
                organization_id, endpoint_id, failing_before)
            if url is None or not await disable_and_tell(
                    uow, organization_id=organization_id, endpoint_id=endpoint_id, url=url,
                    reason=NO_SUCCESS, now=now, actor=ENDPOINT_ACTOR):
                continue  # it succeeded, or was disabled, meanwhile
            await uow.commit()
        disabled += 1
    return disabled


JOBS: tuple[Job, ...] = (
    Job("expire_quotes", timedelta(minutes=1), _expire_quotes),
    Job("prune", timedelta(hours=1), _prune),
    Job("disable_failing_endpoints", timedelta(hours=1), _disable_failing_endpoints),
)


async def run_due_jobs(context: WorkerContext, *, now: datetime,
                       jobs: Sequence[Job] = JOBS) -> list[str]:
    """Run, one after another, each job due at `now` that no other worker is running;
    the names of those this call ran."""
    async with UnitOfWork(context.sessions) as uow:
        await uow.jobs.ensure([job.name for job in jobs], now)
        await uow.commit()
    return [job.name for job in jobs if await _run_if_due(context, job, now)]


async def _run_if_due(context: WorkerContext, job: Job, now: datetime) -> bool:
    async with UnitOfWork(context.sessions) as claim:
        repository = claim.jobs
        if not await repository.claim(job.name, now):
            return False
        error = None
        try:
            await job.run(context, now)
        except Exception as failure:  # recorded, and the job is due again at its interval
            log.exception("scheduled job %s failed", job.name)
            error = f"{type(failure).__name__}: {failure}"[:2000]
        await repository.finish(job.name, ran_at=now, due_at=now + job.every, error=error)
        await claim.commit()
    return True


async def scheduler_loop(context: WorkerContext, stopping: asyncio.Event, *,
                         clock: Clock = utc_now, jobs: Sequence[Job] = JOBS) -> None:
    """Run the due jobs every `worker_poll_seconds` until `stopping` is set; a job in hand
    is finished first."""
    while not stopping.is_set():
        try:
            await run_due_jobs(context, now=clock(), jobs=jobs)
        except Exception:  # the database away, say: try again at the next poll
            log.exception("the scheduler could not look for due jobs")
        await _pause(stopping, context.settings.worker_poll_seconds)


async def _pause(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
