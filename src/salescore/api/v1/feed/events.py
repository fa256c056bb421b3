"""The change feed."""

from typing import Annotated

from fastapi import Query

from salescore.api.deps import AppStateDep, CallerDep, UnitOfWorkDep
from salescore.api.errors import problem_responses
from salescore.api.listing import MAX_LIMIT
from salescore.api.routing import Router
from salescore.api.v1.feed.schemas import EventPage, EventRead
from salescore.repositories.feed.events import FeedPosition
from salescore.services.feed.events import read_feed

router = Router(prefix="/v1/events", tags=["events"])
SCOPE = "events"


@router.get("", response_model=EventPage, responses=problem_responses(410))
async def list_events(
    caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
    after: Annotated[str | None, Query(description="`next_cursor` of the last read.")] = None,
    types: Annotated[str | None, Query(
        description="Comma-separated event types, e.g. `opportunity.won,order.linked`.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> EventPage:
    """Every change in the organization, oldest first, tombstones included. Never skips: an
    event appears only once no transaction still running could come before it. A cursor
    older than the retention window answers 410: read again from the start."""
    position = None
    if after is not None:
        values = state.cursors.decode(SCOPE, after)
        position = FeedPosition(*values) if values else None
    wanted = [t.strip() for t in (types or "").split(",") if t.strip()]
    page = await read_feed(uow, caller=caller, after=position, types=wanted, limit=limit)
    last = page.reached
    cursor = state.cursors.encode(SCOPE, [] if last is None else [last.xact_id,
                                                                   last.event_id])
    return EventPage(
        data=[EventRead(id=e.id, type=e.type, aggregate_type=e.aggregate_type,
                        aggregate_id=e.aggregate_id, occurred_at=e.occurred_at,
                        actor=e.actor, data=e.data) for e in page.events],
        next_cursor=cursor, has_more=len(page.events) == limit)
