"""An export of a list, ready to be read as the API streams it: as CSV (PostgreSQL's own
COPY, in the pieces it arrives in) or as rows in batches (for the files drawn in Python).

Nothing is read until then: making an `Export` only checks the caller's scope and builds
its statement (a sort or filter the list lacks is refused there, before any answer has
begun). Each reading opens its unit of work and holds one connection as long as it runs."""

import asyncio
from collections.abc import AsyncGenerator, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from salescore.repositories.exports import ExportQuery, Sink
from salescore.repositories.unit_of_work import UnitOfWork

AHEAD = 8
"""Pieces of CSV read ahead of the client at most (each what one read of the database's
socket brought: some kB to some hundred kB)."""
BATCH = 2_000


@dataclass(frozen=True, slots=True)
class Export:
    uow: UnitOfWork
    query: ExportQuery

    @property
    def columns(self) -> tuple[str, ...]:
        return self.query.names

    def csv(self) -> AsyncGenerator[bytes, None]:
        """Every row as CSV with a header line (repositories/exports.py says how values
        are written), in the pieces PostgreSQL sends."""
        async def copy(sink: Sink) -> None:
            async with self.uow.reading():
                await self.uow.exports.copy_csv(self.query, sink)

        return streamed(copy)

    async def count(self, *, at_most: int) -> int:
        """How many rows there are, counting no further than `at_most`."""
        async with self.uow.reading():
            return await self.uow.exports.count(self.query, at_most=at_most)

    async def rows(self, *, at_most: int | None, as_text: bool = False,
                   columns: Sequence[str] | None = None,
                   ) -> AsyncGenerator[Sequence[Sequence[Any]], None]:
        """The rows in batches, read from one cursor in one transaction: `at_most` rows,
        with each column's own values, or `as_text` as CSV writes them but for the
        apostrophe before a formula (only the `columns` named when given)."""
        stmt = (self.query.as_text(quote_formulas=False, names=columns, at_most=at_most)
                if as_text else self.query.typed(at_most=at_most))
        async with self.uow:
            async for batch in self.uow.exports.batches(stmt, size=BATCH):
                yield batch


async def streamed(produce: Callable[[Sink], Coroutine[Any, Any, None]],
                   ) -> AsyncGenerator[bytes, None]:
    """What `produce` hands its sink, piece by piece. `produce` runs in a task of its own
    (started on the first read), at most AHEAD pieces ahead of the reader: its sink waits
    meanwhile, and so does the database's socket. A reader who stops early, such as an
    answer whose client went away, cancels only that task, whose own clean-up (its unit
    of work giving its connection back) then runs as any task's does."""
    pieces: asyncio.Queue[bytes] = asyncio.Queue(AHEAD)
    task = asyncio.create_task(produce(pieces.put))
    task.add_done_callback(_retrieve)
    waiting: asyncio.Future[bytes] | None = None
    try:
        while True:
            if not pieces.empty():
                yield pieces.get_nowait()
                continue
            waiting = asyncio.ensure_future(pieces.get())
            await asyncio.wait({waiting, task}, return_when=asyncio.FIRST_COMPLETED)
            if waiting.done():
                yield waiting.result()
                continue
            waiting.cancel()
            while not pieces.empty():
                yield pieces.get_nowait()
            task.result()  # the producer's error, if any
            return
    finally:
        if waiting is not None:
            waiting.cancel()
        task.cancel()


def _retrieve(task: "asyncio.Task[None]") -> None:
    """A producer whose reader went away may fail unheard: its error is not the reader's."""
    if not task.cancelled():
        task.exception()
