"""A user's notifications: made from the events that concern them
(domain/activities/notifications.py, written with the events by the unit of work); read and
marked read here."""

from datetime import UTC, datetime

from salescore.domain.access.permissions import Caller
from salescore.domain.activities.notifications import Notification
from salescore.domain.errors import Forbidden, NotFound
from salescore.domain.listing import ListQuery, Page
from salescore.repositories.unit_of_work import UnitOfWork


def _user_of(caller: Caller) -> int:
    if caller.user_id is None:
        raise Forbidden("notifications belong to users; an API key has none")
    return caller.user_id


async def list_notifications(uow: UnitOfWork, *, caller: Caller, query: ListQuery,
                             unread: bool | None = None) -> Page[Notification]:
    """The caller's own notifications, newest first unless sorted otherwise."""
    user_id = _user_of(caller)
    async with uow:
        return await uow.inbox.list(caller.organization_id, user_id, query, unread=unread)


async def mark_read(uow: UnitOfWork, *, caller: Caller, notification_id: int) -> Notification:
    """Marking read twice keeps the first moment; another user's notification is not
    found."""
    user_id = _user_of(caller)
    async with uow:
        found = await uow.inbox.mark_read(caller.organization_id, user_id, notification_id,
                                          datetime.now(UTC))
        if found is None:
            raise NotFound("notification")
        await uow.commit()
    return found
