"""The caller's notifications."""

from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Response

from salescore.api.deps import AppStateDep, CallerDep, UnitOfWorkDep
from salescore.api.errors import problem_responses
from salescore.api.listing import Filter, ListRequest, PageOf, list_parameters, page_response
from salescore.api.routing import Router
from salescore.api.v1.activities.schemas import NotificationRead
from salescore.api.v1.schemas import Id
from salescore.services.activities import notifications as service

router = Router(prefix="/v1/notifications", tags=["notifications"])
NotificationList = Annotated[ListRequest, Depends(list_parameters(
    "notifications", [Filter("id", int, ranges=True), Filter("type", str),
                      Filter("opportunity_id", int), Filter("unread", bool)],
    sorts=("id", "created_at")))]


@router.get("", response_model=PageOf[NotificationRead], responses=problem_responses(403))
async def list_notifications(caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                             request: NotificationList) -> Response:
    """The calling user's own notifications; `unread=true` for those not yet read."""
    conditions = [c for c in request.query.conditions if c.field != "unread"]
    unread = next((bool(c.value) for c in request.query.conditions if c.field == "unread"),
                  None)
    query = replace(request.query, conditions=tuple(conditions))
    page = await service.list_notifications(uow, caller=caller, query=query, unread=unread)
    return page_response(state, request, page, NotificationRead.of)


@router.post("/{notification_id}/read", response_model=NotificationRead,
             responses=problem_responses(404))
async def mark_notification_read(notification_id: Id, caller: CallerDep,
                                 uow: UnitOfWorkDep) -> NotificationRead:
    """Sets `read_at` on one of the calling user's notifications; marking it again keeps
    the first time. Another user's notification is 404."""
    return NotificationRead.of(await service.mark_read(uow, caller=caller,
                                                       notification_id=notification_id))
