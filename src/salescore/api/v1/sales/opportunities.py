"""Opportunities: the records, their lifecycle actions, history and bulk delete."""

from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Query, Response, status

from salescore.api.deps import AppStateDep, CallerDep, IfMatchDep, UnitOfWorkDep, etag
from salescore.api.errors import problem_responses
from salescore.api.export_streams import (
    ExportLayout,
    ExportRequest,
    export_answer,
    export_parameters,
)
from salescore.api.exports import EXPORT_RESPONSES
from salescore.api.listing import Filter, ListRequest, list_parameters, page_values
from salescore.api.routing import Router
from salescore.api.v1.sales.opportunity_schemas import (
    OPPORTUNITY_JSON,
    OPPORTUNITY_PAGE_JSON,
    BulkDeleteRequest,
    BulkDeleteResult,
    HistoryEntry,
    HistoryPage,
    LoseRequest,
    MoveRequest,
    OpportunityCreate,
    OpportunityExpandedPage,
    OpportunityExpandedRead,
    OpportunityRead,
    OpportunityUpdate,
    OpportunityUpsert,
    ReopenRequest,
    WinRequest,
    expanded_json,
    expanded_values,
    expansions,
)
from salescore.api.v1.schemas import ExternalId, Id, Money, Percent
from salescore.domain.sales.opportunities import Opportunity, Status
from salescore.services.sales import exports
from salescore.services.sales import lifecycle as actions
from salescore.services.sales import opportunities as service

router = Router(prefix="/v1/opportunities", tags=["opportunities"])
SORTS = ("id", "name", "amount", "probability", "weighted_amount", "expected_close_date",
         "follow_up_date", "closed_at", "created_at", "updated_at")
FILTERS = [
    Filter("q", str, pattern=True), Filter("name", str, pattern=True),
    Filter("owner_id", int), Filter("seller_id", int), Filter("customer_id", int),
    Filter("contact_id", int), Filter("campaign_id", int), Filter("stage_id", int),
    Filter("sales_process_id", int), Filter("status", Status, ranges=False),
    Filter("has_order", bool),
    Filter("type_id", int), Filter("source_id", int), Filter("external_id", str),
    Filter("id", int, ranges=True), Filter("amount", Money, ranges=True),
    Filter("probability", Percent, ranges=True),
    Filter("expected_close_date", date, ranges=True),
    Filter("follow_up_date", date, ranges=True), Filter("closed_at", datetime, ranges=True),
    Filter("created_at", datetime, ranges=True), Filter("updated_at", datetime, ranges=True),
]
OpportunityList = Annotated[ListRequest, Depends(list_parameters(
    "opportunities", FILTERS, sorts=SORTS, others={"expand"}))]
OpportunityExport = Annotated[ExportRequest, Depends(export_parameters(FILTERS, SORTS))]
EXPORT = ExportLayout("opportunities", "Opportunities", (
    ("id", 14), ("name", 44), ("customer_name", 36), ("owner_name", 26), ("stage_name", 22),
    ("status", 12), ("amount", 22), ("currency", 11), ("probability", 15),
    ("weighted_amount", 22), ("expected_close_date", 20), ("updated_at", 31)))
ExpandQuery = Annotated[str | None, Query(description=(
    "Parts to embed, comma-separated: `lines` (the product lines), `orders` (the ERP's "
    "orders; needs `orders:read`). `sellers` are always there, and naming them changes "
    "nothing."), examples=["lines,orders"])]
WRITE_ERRORS = problem_responses(404, 409, 412)


def _answer(opportunity: Opportunity, status_code: int = 200,
            located: bool = False) -> Response:
    """The opportunity as JSON, written once here straight from its values (FastAPI
    passes a Response through instead of validating the model a second time; see
    json_bodies.py), with its ETag."""
    headers = {"ETag": etag(opportunity.version)}
    if located:
        headers["Location"] = f"/v1/opportunities/{opportunity.id}"
    return OPPORTUNITY_JSON.response(OpportunityRead.values_of(opportunity), status_code,
                                     headers)


# Routes are matched in the order they are declared: the export first, whose path
# `/{opportunity_id}` would take (and refuse), then the busiest. POST /bulk-delete has
# the shape of an id too, but a POST never matches that GET.
@router.get("/export", response_class=Response, responses=EXPORT_RESPONSES)
async def export_opportunities(caller: CallerDep, uow: UnitOfWorkDep,
                               request: OpportunityExport) -> Response:
    """Every opportunity the list's filters pick, in the list's `sort`, as a file:
    `format` `csv` (the default; no row limit), `xlsx` (at most 1,048,575 rows) or `pdf`
    (at most 10,000 rows, the main columns); past those, 422 naming `format`. The list's
    fields, each reference followed by its name (`customer_name`, `owner_name`,
    `stage_name`, ...), `sellers` as `user_id:share; ...` with `seller_names`; money as
    plain decimals (`1250.00`), times in RFC 3339 UTC."""
    export = exports.export_opportunities(uow, caller=caller, query=request.query)
    return await export_answer(export, request.format, EXPORT)


@router.get("/{opportunity_id}", response_model=OpportunityExpandedRead,
            responses=problem_responses(404))
async def read_opportunity(opportunity_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                           expand: ExpandQuery = None) -> Response:
    """One opportunity, with its sellers, and its ETag for a later `If-Match`.
    `expand=lines,orders` embeds its product lines and the ERP's orders."""
    parts = expansions(expand)
    if not parts:
        return _answer(await service.get_opportunity(
            uow, caller=caller, opportunity_id=opportunity_id))
    opportunity, found = await service.get_expanded(
        uow, caller=caller, opportunity_id=opportunity_id, expand=parts)
    return expanded_json(parts)[0].response(expanded_values(opportunity, found), headers={
        "ETag": etag(opportunity.version)})


@router.get("", response_model=OpportunityExpandedPage)
async def list_opportunities(caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                             request: OpportunityList, expand: ExpandQuery = None) -> Response:
    """Every filter combines with every other (AND). `q` searches name, description and
    customer name: `AS%` starts with, `%AS` ends with, `AS` contains, case-insensitively.
    `expand=lines` embeds each one's product lines (one query for the whole page)."""
    parts = expansions(expand)
    if not parts:
        page = await service.list_opportunities(uow, caller=caller, query=request.query)
        return OPPORTUNITY_PAGE_JSON.response(
            page_values(state, request, page, OpportunityRead.values_of))
    page, found = await service.list_expanded(uow, caller=caller, query=request.query,
                                              expand=parts)
    return expanded_json(parts)[1].response(
        page_values(state, request, page, lambda o: expanded_values(o, found)))




@router.post("", response_model=OpportunityRead, status_code=status.HTTP_201_CREATED,
             responses=problem_responses(404, 409))
async def create_opportunity(body: OpportunityCreate, caller: CallerDep,
                             uow: UnitOfWorkDep) -> Response:
    """A new opportunity of a customer, answered with its `Location` and ETag. The owner
    defaults to the calling user (an API key must give `owner_id`), the process to the
    owner's default, the stage to the process's first open stage, the probability to the
    stage's and the currency to the organization's. Money and percentages are decimal
    strings (`"1250.00"`)."""
    opportunity = await service.create_opportunity(
        uow, caller=caller, values=body.model_dump(exclude_none=True))
    return _answer(opportunity, status.HTTP_201_CREATED, located=True)


@router.post("/bulk-delete", response_model=BulkDeleteResult,
             responses=problem_responses(404))
async def bulk_delete_opportunities(body: BulkDeleteRequest, caller: CallerDep,
                                   uow: UnitOfWorkDep) -> BulkDeleteResult:
    """Delete every id or none: one the caller may not delete, or that does not exist,
    refuses the whole request."""
    deleted = await actions.bulk_delete_opportunities(uow, caller=caller, ids=body.ids)
    return BulkDeleteResult(deleted=deleted)


@router.put("/by-external-id/{external_id}", response_model=OpportunityRead,
            responses={201: {"description": "Created", "model": OpportunityRead},
                       **WRITE_ERRORS})
async def upsert_opportunity(external_id: ExternalId, body: OpportunityUpsert,
                             caller: CallerDep, uow: UnitOfWorkDep,
                             if_match: IfMatchDep) -> Response:
    """Create the opportunity with this external id (201), or change the fields given on
    the one that has it (200). Safe to retry. `If-Match` applies to the one there is."""
    opportunity, created = await service.upsert_opportunity(
        uow, caller=caller, external_id=external_id, values=body.changes(),
        if_match=if_match)
    if created:
        return _answer(opportunity, status.HTTP_201_CREATED, located=True)
    return _answer(opportunity)


@router.patch("/{opportunity_id}", response_model=OpportunityRead, responses=WRITE_ERRORS)
async def update_opportunity(opportunity_id: Id, body: OpportunityUpdate, caller: CallerDep,
                             uow: UnitOfWorkDep, if_match: IfMatchDep) -> Response:
    """Change the fields given. A new stage brings its probability unless `probability` is
    given too; a new sales process needs a `stage_id` of it. Status changes go through
    the actions (`/win`, `/lose`, `/expire`, `/reopen`)."""
    return _answer(await service.update_opportunity(
        uow, caller=caller, opportunity_id=opportunity_id, values=body.changes(),
        if_match=if_match))


@router.delete("/{opportunity_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=WRITE_ERRORS)
async def delete_opportunity(opportunity_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                             if_match: IfMatchDep) -> None:
    """Deletes it; the change feed keeps an `opportunity.deleted` tombstone."""
    await actions.delete_opportunity(uow, caller=caller, opportunity_id=opportunity_id,
                                     if_match=if_match)


@router.post("/{opportunity_id}/move", response_model=OpportunityRead,
             responses=WRITE_ERRORS)
async def move_opportunity(opportunity_id: Id, body: MoveRequest, caller: CallerDep,
                           uow: UnitOfWorkDep, if_match: IfMatchDep) -> Response:
    """To another stage, its probability following unless given. A stage of another
    process moves the opportunity to that process. Closed ones must be reopened first.
    A lost stage takes `loss_reason_id` and `loss_note` as `/lose` does."""
    return _answer(await actions.move_opportunity(
        uow, caller=caller, opportunity_id=opportunity_id, stage_id=body.stage_id,
        probability=body.probability, loss_reason_id=body.loss_reason_id,
        loss_note=body.loss_note, if_match=if_match))


@router.post("/{opportunity_id}/win", response_model=OpportunityRead, responses=WRITE_ERRORS)
async def win_opportunity(opportunity_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                          if_match: IfMatchDep,
                          body: WinRequest | None = None) -> Response:
    """Won: probability 100, closed now, in the given or the first won stage."""
    return _answer(await actions.win_opportunity(
        uow, caller=caller, opportunity_id=opportunity_id,
        stage_id=body.stage_id if body else None, if_match=if_match))


@router.post("/{opportunity_id}/lose", response_model=OpportunityRead,
             responses=WRITE_ERRORS)
async def lose_opportunity(opportunity_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                           if_match: IfMatchDep,
                           body: LoseRequest | None = None) -> Response:
    """Lost: probability 0, closed now; the loss reason must be active, and may be
    required by the settings."""
    body = body or LoseRequest()
    return _answer(await actions.lose_opportunity(
        uow, caller=caller, opportunity_id=opportunity_id, loss_reason_id=body.loss_reason_id,
        loss_note=body.loss_note, stage_id=body.stage_id, if_match=if_match))


@router.post("/{opportunity_id}/expire", response_model=OpportunityRead,
             responses=WRITE_ERRORS)
async def expire_opportunity(opportunity_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                             if_match: IfMatchDep) -> Response:
    """Expired: the chance ran out. Final, like won and lost."""
    return _answer(await actions.expire_opportunity(
        uow, caller=caller, opportunity_id=opportunity_id, if_match=if_match))


@router.post("/{opportunity_id}/reopen", response_model=OpportunityRead,
             responses=WRITE_ERRORS)
async def reopen_opportunity(opportunity_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                             if_match: IfMatchDep,
                             body: ReopenRequest | None = None) -> Response:
    """Back to open in the given open stage, or the last open stage it was in."""
    return _answer(await actions.reopen_opportunity(
        uow, caller=caller, opportunity_id=opportunity_id,
        stage_id=body.stage_id if body else None, if_match=if_match))


@router.get("/{opportunity_id}/history", response_model=HistoryPage,
            responses=problem_responses(404))
async def read_opportunity_history(
        opportunity_id: Id, caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: Annotated[str | None, Query(description="`next_cursor` of the previous "
                                                        "page.")] = None) -> HistoryPage:
    """Who changed what and when, oldest first, from the event log."""
    scope = f"history:{opportunity_id}"
    after_id = None if cursor is None else state.cursors.decode(scope, cursor)[0]
    found = await service.opportunity_history(uow, caller=caller,
                                              opportunity_id=opportunity_id,
                                              after_id=after_id, limit=limit + 1)
    more = len(found) > limit
    found = found[:limit]
    next_cursor = state.cursors.encode(scope, [found[-1].id]) if more else None
    return HistoryPage(data=[HistoryEntry.of(e) for e in found], next_cursor=next_cursor)


# Tried before any router (routing.FirstRoutes): the reads, and the writes the sales
# teams and integrators send most. None of them shares a method and a path's shape with
# a route declared before it; the export is here only so that read_opportunity's path,
# tried first otherwise, does not take its own.
BUSIEST = (export_opportunities, read_opportunity, list_opportunities, create_opportunity,
           update_opportunity, move_opportunity, win_opportunity, lose_opportunity)
