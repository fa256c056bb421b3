"""The event log: appended in the writing transaction, read as the change feed.

Feed order is (transaction id, event id). Only events of transactions older than every
transaction still running are served (`xact_id < pg_snapshot_xmin(pg_current_snapshot())`):
a transaction still open may yet commit events, but always at a position above everything
served, so a reader that follows the feed never skips one. A reader of some types only
moves on over the events it was not given, as far as an unfiltered reader would have got."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Text,
    bindparam,
    cast,
    func,
    literal,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import UserDefinedType

from salescore.domain.events import DomainEvent
from salescore.repositories.feed.models import event_retention as retention
from salescore.repositories.feed.models import events
from salescore.repositories.prepared import Prepared, as_json, driver, execute_many


class XID8(UserDefinedType[str]):
    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "xid8"


@dataclass(frozen=True, slots=True, order=True)
class FeedPosition:
    xact_id: int
    event_id: int


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    position: FeedPosition
    type: str
    aggregate_type: str
    aggregate_id: int
    data: dict[str, Any]
    actor: dict[str, Any]
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class FeedPage:
    """Events of the feed, and the position the next read starts from (None: the start)."""

    events: list[StoredEvent]
    reached: FeedPosition | None


def _xid8(value: int) -> ColumnElement[Any]:
    return cast(literal(str(value), Text), XID8())


def _beyond(position: FeedPosition) -> ColumnElement[bool]:
    return tuple_(events.c.xact_id, events.c.id) > tuple_(
        _xid8(position.xact_id), literal(position.event_id))


_SAFE = events.c.xact_id < func.pg_snapshot_xmin(func.pg_current_snapshot())
_COLUMNS = (events.c.id, cast(events.c.xact_id, Text).label("xact"), events.c.type,
            events.c.aggregate_type, events.c.aggregate_id, events.c.data, events.c.actor,
            events.c.occurred_at)


# The event, and in the same statement its outbox: a webhook delivery for each active
# endpoint of the organization that takes its type (none listed: every type), with a
# notification that wakes the workers when there is one (repeats in a transaction are
# sent once). An organization with no endpoint pays one probe of a partial index.
DELIVERIES_CHANNEL = "salescore_deliveries"
_QUEUED = f"""
), queued AS (
    INSERT INTO webhook_deliveries (organization_id, endpoint_id, event_id, event_type)
    SELECT event.organization_id, endpoint.id, event.id, event.type
    FROM event JOIN webhook_endpoints AS endpoint
        ON endpoint.organization_id = event.organization_id AND endpoint.active
        AND (endpoint.event_types = '{{}}' OR event.type = ANY (endpoint.event_types))
    RETURNING 1
)
SELECT pg_notify('{DELIVERIES_CHANNEL}', '') FROM (SELECT 1 FROM queued LIMIT 1) AS any_queued
"""
_APPEND = Prepared.of(text("""
WITH event AS (
    INSERT INTO events (organization_id, aggregate_type, aggregate_id, type, data, actor)
    VALUES (:organization_id, :aggregate_type, :aggregate_id, :type,
            CAST(:data AS jsonb), CAST(:actor AS jsonb))
    RETURNING organization_id, id, type""" + _QUEUED).bindparams(
    bindparam("aggregate_id", type_=BigInteger), bindparam("organization_id", type_=BigInteger)))
# The same for many events at once (a bulk import's batch), one array a column; the ids
# follow the order of the arrays.
_APPEND_MANY = """
WITH event AS (
    INSERT INTO events (organization_id, aggregate_type, aggregate_id, type, data, actor)
    SELECT organization_id, aggregate_type, aggregate_id, type, data, actor
    FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::jsonb[], $6::jsonb[])
        WITH ORDINALITY AS given (organization_id, aggregate_type, aggregate_id, type, data,
                                  actor, n)
    ORDER BY n
    RETURNING organization_id, id, type""" + _QUEUED
# Fewer events than this go as one prepared statement each, in one round trip.
_MANY = 16



def _to_stored(row: Any) -> StoredEvent:
    return StoredEvent(
        id=row.id, position=FeedPosition(int(row.xact), row.id), type=row.type,
        aggregate_type=row.aggregate_type, aggregate_id=row.aggregate_id, data=row.data,
        actor=row.actor, occurred_at=row.occurred_at,
    )


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, batch: Sequence[tuple[int, dict[str, Any], DomainEvent]]) -> None:
        """Write (organization id, actor, event) rows, in order."""
        if len(batch) >= _MANY:
            columns: list[list[Any]] = [[], [], [], [], [], []]
            for organization_id, actor, e in batch:
                for column, value in zip(columns, (
                        organization_id, e.aggregate_type, e.aggregate_id, e.type,
                        as_json(e.data), as_json(actor)), strict=True):
                    column.append(value)
            await (await driver(self._session)).execute(_APPEND_MANY, *columns)
            return
        await execute_many(self._session, _APPEND, [
            {"organization_id": organization_id, "aggregate_type": e.aggregate_type,
             "aggregate_id": e.aggregate_id, "type": e.type, "data": as_json(e.data),
             "actor": as_json(actor)}
            for organization_id, actor, e in batch
        ])

    async def feed(self, organization_id: int, *, after: FeedPosition | None,
                   types: Sequence[str], limit: int) -> FeedPage:
        """Committed events past `after` that no running transaction can precede, up to
        `limit`, reaching the last one. Filtered by `types`, a page that is not full
        reaches the last such event of any type. That end is read first: every event up
        to it is of a transaction that had ended, so the page read after it sees them all
        and none of the types can still appear below it."""
        stmt = select(*_COLUMNS).where(events.c.organization_id == organization_id)
        if after is not None:
            stmt = stmt.where(_beyond(after))
        end = None
        if types:
            end = await self._last_safe(organization_id, after=after)
            if end is None:
                return FeedPage([], after)
            stmt = stmt.where(~_beyond(end), events.c.type.in_(types))
        else:
            stmt = stmt.where(_SAFE)
        stmt = stmt.order_by(events.c.xact_id, events.c.id).limit(limit)
        found = [_to_stored(r) for r in (await self._session.execute(stmt)).all()]
        if end is not None and len(found) < limit:
            return FeedPage(found, end)
        return FeedPage(found, found[-1].position if found else after)

    async def _last_safe(self, organization_id: int, *,
                         after: FeedPosition | None) -> FeedPosition | None:
        """The last event past `after` that no running transaction can precede."""
        stmt = select(cast(events.c.xact_id, Text), events.c.id).where(
            events.c.organization_id == organization_id, _SAFE)
        if after is not None:
            stmt = stmt.where(_beyond(after))
        stmt = stmt.order_by(events.c.xact_id.desc(), events.c.id.desc()).limit(1)
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else FeedPosition(int(row[0]), row[1])

    async def of_aggregate(self, organization_id: int, aggregate_type: str, aggregate_id: int,
                           *, after_id: int | None, limit: int) -> list[StoredEvent]:
        stmt = select(*_COLUMNS).where(
            events.c.organization_id == organization_id,
            events.c.aggregate_type == aggregate_type, events.c.aggregate_id == aggregate_id)
        if after_id is not None:
            stmt = stmt.where(events.c.id > after_id)
        stmt = stmt.order_by(events.c.id).limit(limit)
        return [_to_stored(r) for r in (await self._session.execute(stmt)).all()]

    async def pruned_through(self, organization_id: int) -> FeedPosition | None:
        stmt = select(cast(retention.c.pruned_through_xact, Text),
                      retention.c.pruned_through_id).where(
            retention.c.organization_id == organization_id)
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else FeedPosition(int(row[0]), row[1])

    async def prune(self, older_than: datetime) -> int:
        """Delete, per organization, the feed up to its last event that occurred before
        `older_than`, and remember that position; returns how many events went."""
        last = (select(events.c.organization_id, cast(events.c.xact_id, Text), events.c.id)
                .where(events.c.occurred_at < older_than, _SAFE)
                .ext(distinct_on(events.c.organization_id))
                .order_by(events.c.organization_id, events.c.xact_id.desc(),
                          events.c.id.desc()))
        deleted = 0
        for organization_id, xact, event_id in (await self._session.execute(last)).all():
            through = FeedPosition(int(xact), event_id)
            result = await self._session.execute(events.delete().where(
                events.c.organization_id == organization_id, ~_beyond(through)))
            deleted += result.rowcount  # type: ignore[attr-defined]
            stmt = pg_insert(retention).values(
                organization_id=organization_id, pruned_through_xact=_xid8(through.xact_id),
                pruned_through_id=event_id)
            await self._session.execute(stmt.on_conflict_do_update(
                index_elements=[retention.c.organization_id],
                set_={"pruned_through_xact": stmt.excluded.pruned_through_xact,
                      "pruned_through_id": stmt.excluded.pruned_through_id}))
        return deleted
