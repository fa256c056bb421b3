"""Activities, and those of one opportunity."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Response, status

from salescore.api.deps import AppStateDep, CallerDep, IfMatchDep, UnitOfWorkDep, etag
from salescore.api.errors import problem_responses
from salescore.api.export_streams import (
    ExportLayout,
    ExportRequest,
    export_answer,
    export_parameters,
)
from salescore.api.exports import EXPORT_RESPONSES
from salescore.api.listing import Filter, ListRequest, PageOf, list_parameters, page_response
from salescore.api.routing import Router
from salescore.api.v1.activities.schemas import ActivityCreate, ActivityRead, ActivityUpdate
from salescore.api.v1.schemas import Id
from salescore.domain.activities.activities import Activity, ActivityKind, Origin
from salescore.services.activities import activities as service
from salescore.services.activities import exports as activity_exports

router = Router(tags=["activities"])
FILTERS = [Filter("id", int, ranges=True), Filter("kind", ActivityKind),
           Filter("origin", Origin), Filter("done", bool), Filter("assignee_id", int),
           Filter("customer_id", int), Filter("contact_id", int),
           Filter("subject", str, pattern=True),
           Filter("due_at", datetime, ranges=True), Filter("starts_at", datetime, ranges=True),
           Filter("ends_at", datetime, ranges=True), Filter("updated_at", datetime, ranges=True)]
SORTS = ("id", "due_at", "starts_at", "ends_at", "created_at", "updated_at")
ActivityList = Annotated[ListRequest, Depends(list_parameters(
    "activities", [*FILTERS, Filter("opportunity_id", int)], sorts=SORTS))]
ActivityExport = Annotated[ExportRequest, Depends(export_parameters(
    [*FILTERS, Filter("opportunity_id", int)], SORTS))]
EXPORT = ExportLayout("activities", "Activities", (
    ("id", 14), ("kind", 20), ("subject", 55), ("due_at", 31), ("starts_at", 31),
    ("ends_at", 31), ("done", 10), ("assignee_name", 26), ("customer_name", 30),
    ("opportunity_name", 28)))
OpportunityActivityList = Annotated[ListRequest, Depends(list_parameters(
    "opportunity-activities", FILTERS, sorts=SORTS))]
WRITE_ERRORS = problem_responses(404, 412)


def _answer(response: Response, activity: Activity) -> ActivityRead:
    response.headers["ETag"] = etag(activity.version)
    return ActivityRead.of(activity)


@router.get("/v1/activities", response_model=PageOf[ActivityRead])
async def list_activities(caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                          request: ActivityList) -> Response:
    """A seller's calendar: `assignee_id` with `starts_at[gte]`/`starts_at[lte]` (or
    `due_at` for tasks), across kinds. Filters combine."""
    page = await service.list_activities(uow, caller=caller, query=request.query)
    return page_response(state, request, page, ActivityRead.of)


@router.get("/v1/activities/export", response_class=Response, responses=EXPORT_RESPONSES)
async def export_activities(caller: CallerDep, uow: UnitOfWorkDep,
                            request: ActivityExport) -> Response:
    """Every activity the list's filters pick, in the list's `sort`, as a file: `format`
    `csv` (the default; no row limit), `xlsx` (at most 1,048,575 rows) or `pdf` (at most
    10,000 rows, the main columns); past those, 422 naming `format`. The list's fields,
    each reference followed by its name (`assignee_name`, `customer_name`,
    `contact_name`, `opportunity_name`); times in RFC 3339 UTC."""
    export = activity_exports.export_activities(uow, caller=caller, query=request.query)
    return await export_answer(export, request.format, EXPORT)


@router.get("/v1/opportunities/{opportunity_id}/activities",
            response_model=PageOf[ActivityRead], responses=problem_responses(404))
async def list_opportunity_activities(opportunity_id: Id, caller: CallerDep,
                                      uow: UnitOfWorkDep, state: AppStateDep,
                                      request: OpportunityActivityList,
                                      ) -> Response:
    """The activities of one opportunity, with the filters and sorts of
    `GET /v1/activities`."""
    page = await service.list_activities(uow, caller=caller, query=request.query,
                                         opportunity_id=opportunity_id)
    return page_response(state, request, page, ActivityRead.of)


@router.post("/v1/activities", response_model=ActivityRead,
             status_code=status.HTTP_201_CREATED, responses=problem_responses(404))
async def create_activity(body: ActivityCreate, caller: CallerDep, uow: UnitOfWorkDep,
                          response: Response) -> ActivityRead:
    """A user's activity is theirs unless `assignee_id` says otherwise; one on an
    opportunity takes its customer. Appointments need `starts_at` before `ends_at`."""
    activity = await service.create_activity(uow, caller=caller,
                                             values=body.model_dump(exclude_unset=True))
    response.headers["Location"] = f"/v1/activities/{activity.id}"
    return _answer(response, activity)


@router.get("/v1/activities/{activity_id}", response_model=ActivityRead,
            responses=problem_responses(404))
async def read_activity(activity_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                        response: Response) -> ActivityRead:
    """One activity, and its ETag for a later `If-Match`."""
    return _answer(response, await service.get_activity(uow, caller=caller,
                                                        activity_id=activity_id))


@router.patch("/v1/activities/{activity_id}", response_model=ActivityRead,
              responses=WRITE_ERRORS)
async def update_activity(activity_id: Id, body: ActivityUpdate, caller: CallerDep,
                          uow: UnitOfWorkDep, if_match: IfMatchDep,
                          response: Response) -> ActivityRead:
    """`done: true` completes it (sets `done_at`); `done: false` undoes that."""
    return _answer(response, await service.update_activity(
        uow, caller=caller, activity_id=activity_id, values=body.changes(),
        if_match=if_match))


@router.delete("/v1/activities/{activity_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=WRITE_ERRORS)
async def delete_activity(activity_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                          if_match: IfMatchDep) -> None:
    """Deletes the activity for good; `If-Match` guards against deleting a version you
    have not seen."""
    await service.delete_activity(uow, caller=caller, activity_id=activity_id,
                                  if_match=if_match)
