"""Running a worker's loops: in `salescore worker`, or inside each `salescore serve`
process (unless `--no-worker`).

Every loop runs until the worker stops; one that fails is logged and started again after
RESTART_SECONDS. Stopping sets the loops' `stopping` event: they claim nothing more and
finish the work in hand, for at most `shutdown_grace_seconds`; those still running then
are cancelled, and given RELEASE_SECONDS to put back what they hold (a delivery's lease)."""

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence

from salescore.repositories.database import make_engine, make_sessions
from salescore.services.integrations.imports import RowRules
from salescore.settings import Settings
from salescore.workers.context import Loop, WorkerContext
from salescore.workers.delivery import deliver_webhooks
from salescore.workers.imports import import_loop
from salescore.workers.mail import mail_loop
from salescore.workers.scheduler import scheduler_loop

log = logging.getLogger("salescore.worker")
RESTART_SECONDS = 1.0
RELEASE_SECONDS = 5.0


def worker_pool_size(settings: Settings) -> int:
    """Connections a `salescore worker` keeps: one for each attempt it may be recording at
    once and a few for its claims and other loops, so that none is opened and closed per
    attempt (a pool's overflow connections are), which would cost more than the attempt;
    SALESCORE_DB_POOL_SIZE when that is more."""
    return max(settings.db_pool_size, settings.worker_concurrency + 4)


def default_loops() -> list[Loop]:
    """What a worker runs: webhook delivery, the scheduled jobs, quote e-mails, imports."""
    return [deliver_webhooks, scheduler_loop, mail_loop, import_loop]


async def _supervised(loop: Loop, context: WorkerContext, stopping: asyncio.Event) -> None:
    name = getattr(loop, "__name__", repr(loop))
    while not stopping.is_set():
        try:
            await loop(context, stopping)
        except Exception:
            log.exception("the worker loop %s failed; starting it again", name)
        else:
            if stopping.is_set():
                return
            log.warning("the worker loop %s returned; starting it again", name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), RESTART_SECONDS)


async def run_loops(context: WorkerContext, loops: Sequence[Loop],
                    stopping: asyncio.Event) -> None:
    """Run `loops` until `stopping` is set, then stop them as the module says."""
    tasks = [asyncio.create_task(_supervised(loop, context, stopping),
                                 name=f"salescore-{getattr(loop, '__name__', 'loop')}")
             for loop in loops]
    try:
        await stopping.wait()
        _, late = await asyncio.wait(tasks, timeout=context.settings.shutdown_grace_seconds)
    except asyncio.CancelledError:
        late = set(tasks)
        stopping.set()
        await _cancel(late)
        raise
    await _cancel(late)


async def _cancel(tasks: set[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    if tasks:
        _, stuck = await asyncio.wait(tasks, timeout=RELEASE_SECONDS)
        if stuck:
            log.warning("%d worker loops did not stop in time", len(stuck))


class Worker:
    """The loops of a worker as a background task of another program (`serve`)."""

    def __init__(self, context: WorkerContext, loops: Sequence[Loop]) -> None:
        self._context = context
        self._loops = list(loops)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(
                run_loops(self._context, self._loops, self._stopping), name="salescore-worker")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            task, self._task = self._task, None
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def run_worker(settings: Settings, url: str, loops: Sequence[Loop] | None = None,
                     *, stopping: asyncio.Event | None = None,
                     import_rows: RowRules | None = None) -> None:
    """`salescore worker`: the loops on an engine of their own until SIGTERM or SIGINT
    (or `stopping`, when given, is set); `import_rows` from the API layer."""
    stopping = stopping or asyncio.Event()
    engine = make_engine(url, pool_size=worker_pool_size(settings))
    context = WorkerContext(settings=settings, engine=engine, sessions=make_sessions(engine),
                            import_rows=import_rows)
    running = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        running.add_signal_handler(sig, stopping.set)
    try:
        log.info("worker started")
        await run_loops(context, default_loops() if loops is None else loops, stopping)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            running.remove_signal_handler(sig)
        await engine.dispose()
        log.info("worker stopped")
