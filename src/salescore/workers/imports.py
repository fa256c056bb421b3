"""The import loop: runs the queued imports one at a time (services/integrations/imports.py).

Woken by `NOTIFY salescore_imports` (an upload committed), and looking every
`worker_poll_seconds` anyway. An import is leased while it runs, batch by batch: one whose
worker died is taken up by another once the lease has run out (`per_row` goes on after
the batches it committed). Stopping lets the import in hand run for the grace period;
one still running then is cancelled and put back in the queue at once, for the next
worker. An import that fails on an unexpected error (a bug) ends `failed`, logged,
rather than being taken up again and again."""

import asyncio
import contextlib
import logging

from salescore.domain.integrations.imports import Import
from salescore.repositories.integrations.deliveries import listen_for_deliveries
from salescore.repositories.integrations.imports import IMPORTS_CHANNEL
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.integrations.imports import (
    RowRules,
    claim_import,
    fail_import,
    release_import,
    run_import,
)
from salescore.workers.context import WorkerContext, first_of

log = logging.getLogger("salescore.imports")


async def import_loop(context: WorkerContext, stopping: asyncio.Event) -> None:
    rules = context.import_rows
    if rules is None:
        log.warning("this worker was not given the import rules: it runs no imports")
        await stopping.wait()
        return
    wake = asyncio.Event()
    listener = asyncio.create_task(listen_for_deliveries(context.engine, wake.set,
                                                         channel=IMPORTS_CHANNEL))
    try:
        while not stopping.is_set():
            wake.clear()
            job = await claim_import(UnitOfWork(context.sessions))
            if job is not None:
                await _run(context, rules, job)
                continue
            await first_of(wake, stopping, seconds=context.settings.worker_poll_seconds)
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener


async def _run(context: WorkerContext, rules: RowRules, job: Import) -> None:
    try:
        status = await run_import(context.sessions, rules, job)
    except asyncio.CancelledError:
        await asyncio.shield(release_import(UnitOfWork(context.sessions), job))
        raise
    except Exception:
        log.exception("import %s of organization %s stopped on an unexpected error",
                      job.id, job.organization_id)
        await fail_import(UnitOfWork(context.sessions), job)
        return
    log.info("import %s of organization %s ended %s", job.id, job.organization_id,
             status.value)

