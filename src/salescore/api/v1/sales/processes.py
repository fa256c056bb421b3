"""Sales processes (pipelines) and their stages. A stage has no version of its own: stage
reads carry the process's ETag and stage writes take it in `If-Match`."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Response, status

from salescore.api.deps import AppStateDep, CallerDep, IfMatchDep, UnitOfWorkDep, etag
from salescore.api.errors import problem_responses
from salescore.api.exports import (
    EXPORT_RESPONSES,
    ExportFormat,
    Table,
    export_response,
    row_bound,
    take_format,
)
from salescore.api.listing import Filter, ListRequest, PageOf, list_parameters, page_response
from salescore.api.routing import Router
from salescore.api.v1.sales.process_schemas import (
    EXPORT_COLUMNS,
    SalesProcessCreate,
    SalesProcessRead,
    SalesProcessUpdate,
    StageCreate,
    StageList,
    StageOrder,
    StageRead,
    StageUpdate,
    export_row,
)
from salescore.api.v1.schemas import Id, Integer
from salescore.domain.sales.processes import ProcessView
from salescore.services.sales import processes as service
from salescore.services.sales import stages as process_stages

router = Router(prefix="/v1/sales-processes", tags=["sales processes"])
FILTERS = [
    Filter("view", ProcessView), Filter("id", int, ranges=True),
    Filter("name", str, pattern=True), Filter("note", str, pattern=True),
    Filter("q", str, pattern=True), Filter("stage_count", Integer, ranges=True),
    Filter("in_use", Integer, ranges=True), Filter("default_user_id", int),
    Filter("default_department_id", int), Filter("default_sales_region_id", int),
    Filter("created_by", int), Filter("updated_by", int),
    Filter("created_at", datetime, ranges=True), Filter("updated_at", datetime, ranges=True),
]
SORTS = ("id", "name", "stage_count", "in_use", "created_at", "updated_at")
ProcessList = Annotated[ListRequest, Depends(list_parameters("sales-processes", FILTERS,
                                                             sorts=SORTS))]
ProcessExport = Annotated[ListRequest, Depends(list_parameters(
    "sales-processes-export", [*FILTERS, Filter("format", ExportFormat)], sorts=SORTS))]
MoveTo = Annotated[Id | None, Query(description="The stage (same process, same kind) the "
                                                "removed stage's opportunities move to.")]
STAGE = "/{process_id}/stages/{stage_id}"


@router.get("", response_model=PageOf[SalesProcessRead])
async def list_sales_processes(caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                               request: ProcessList) -> Response:
    """`view`: `active` (default), `mine` (created or last saved by the caller, active or
    not), `not_mine`, `inactive`, `all`. `q` searches name and note."""
    page = await service.list_processes(uow, caller=caller, query=request.query)
    return page_response(state, request, page, SalesProcessRead.of)


@router.get("/export", response_class=Response, responses=EXPORT_RESPONSES)
async def export_sales_processes(caller: CallerDep, uow: UnitOfWorkDep,
                                 request: ProcessExport) -> Response:
    """The list as a file: `format` `csv` (default), `xlsx` or `pdf`; the list's filters
    and sort, every row (`limit` is the page size it is read in). xlsx holds at most
    1,048,575 rows and pdf 10,000: past those, 422 naming `format`, to use CSV."""
    fmt, request = take_format(request)
    processes = await service.export_processes(uow, caller=caller, query=request.query,
                                               at_most=row_bound(fmt))
    table = Table("Sales processes", EXPORT_COLUMNS, [export_row(p) for p in processes])
    return export_response(table, fmt, "sales-processes")


@router.post("", response_model=SalesProcessRead, status_code=status.HTTP_201_CREATED,
             responses=problem_responses(404))
async def create_sales_process(body: SalesProcessCreate, caller: CallerDep,
                               uow: UnitOfWorkDep, response: Response) -> SalesProcessRead:
    """A new sales process with its stages in order (at least one `open` stage), needs
    `sales_setup:write`. `default_for` makes it the default process of everyone, or of the
    users, departments and sales regions named."""
    process = await service.create_process(
        uow, caller=caller, name=body.name, active=body.active, note=body.note,
        default_for=body.default_for.to_domain(), stages=[s.to_domain() for s in body.stages])
    response.headers["ETag"] = etag(process.version)
    response.headers["Location"] = f"/v1/sales-processes/{process.id}"
    return SalesProcessRead.of(process)


@router.get("/{process_id}", response_model=SalesProcessRead, responses=problem_responses(404))
async def read_sales_process(process_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                             response: Response) -> SalesProcessRead:
    """One sales process with its stages in order, and its ETag for a later `If-Match`
    (on the process or any of its stages)."""
    process = await service.get_process(uow, caller=caller, process_id=process_id)
    response.headers["ETag"] = etag(process.version)
    return SalesProcessRead.of(process)


@router.patch("/{process_id}", response_model=SalesProcessRead,
              responses=problem_responses(404, 412))
async def update_sales_process(process_id: Id, body: SalesProcessUpdate, caller: CallerDep,
                               uow: UnitOfWorkDep, if_match: IfMatchDep,
                               response: Response) -> SalesProcessRead:
    """Change the fields given; `default_for` replaces the targets; `null` clears the note."""
    process = await service.update_process(uow, caller=caller, process_id=process_id,
                                           changes_=body.to_changes(), if_match=if_match)
    response.headers["ETag"] = etag(process.version)
    return SalesProcessRead.of(process)


@router.delete("/{process_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(404, 409, 412))
async def delete_sales_process(process_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                               if_match: IfMatchDep) -> None:
    """Remove the process with its stages; refused (409) while opportunities use it."""
    await service.delete_process(uow, caller=caller, process_id=process_id, if_match=if_match)


@router.get("/{process_id}/stages", response_model=StageList,
            responses=problem_responses(404))
async def list_stages(process_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                      response: Response) -> StageList:
    """Every stage of the process in order, on one page, each with how many opportunities
    stand on it (`in_use`). The ETag is the process's."""
    process = await service.get_process(uow, caller=caller, process_id=process_id)
    response.headers["ETag"] = etag(process.version)
    return StageList.of(process)


@router.post("/{process_id}/stages", response_model=StageRead,
             status_code=status.HTTP_201_CREATED, responses=problem_responses(404, 412))
async def add_stage(process_id: Id, body: StageCreate, caller: CallerDep, uow: UnitOfWorkDep,
                    if_match: IfMatchDep, response: Response) -> StageRead:
    """Add a stage, last or at `position`; the stages from there move one down."""
    process, stage = await process_stages.add_stage(
        uow, caller=caller, process_id=process_id, stage=body.to_domain(),
        position=body.position, if_match=if_match)
    response.headers["ETag"] = etag(process.version)
    response.headers["Location"] = f"/v1/sales-processes/{process_id}/stages/{stage.id}"
    return StageRead.of(stage)


@router.put("/{process_id}/stages/order", response_model=StageList,
            responses=problem_responses(404, 412))
async def reorder_stages(process_id: Id, body: StageOrder, caller: CallerDep,
                         uow: UnitOfWorkDep, if_match: IfMatchDep,
                         response: Response) -> StageList:
    """Give the full order: every stage of the process exactly once."""
    process = await process_stages.reorder_stages(uow, caller=caller, process_id=process_id,
                                           stage_ids=body.stage_ids, if_match=if_match)
    response.headers["ETag"] = etag(process.version)
    return StageList.of(process)


@router.get(STAGE, response_model=StageRead, responses=problem_responses(404))
async def read_stage(process_id: Id, stage_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                     response: Response) -> StageRead:
    """One stage of the process. The ETag is the process's, for `If-Match` on a stage
    write."""
    process, stage = await process_stages.get_stage(uow, caller=caller, process_id=process_id,
                                             stage_id=stage_id)
    response.headers["ETag"] = etag(process.version)
    return StageRead.of(stage)


@router.patch(STAGE, response_model=StageRead, responses=problem_responses(404, 409, 412))
async def update_stage(process_id: Id, stage_id: Id, body: StageUpdate, caller: CallerDep,
                       uow: UnitOfWorkDep, if_match: IfMatchDep,
                       response: Response) -> StageRead:
    """Rename, re-colour, change the probability (opportunities keep theirs) or the kind
    (409 while opportunities use the stage)."""
    process, stage = await process_stages.update_stage(
        uow, caller=caller, process_id=process_id, stage_id=stage_id,
        changes_=body.changes(), if_match=if_match)
    response.headers["ETag"] = etag(process.version)
    return StageRead.of(stage)


@router.delete(STAGE, status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(404, 409, 412))
async def delete_stage(process_id: Id, stage_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                       if_match: IfMatchDep, move_to: MoveTo = None) -> None:
    """Remove a stage; while opportunities use it (409) `move_to` must name where they go,
    a stage of the same process and kind; they take its probability."""
    await process_stages.remove_stage(uow, caller=caller, process_id=process_id, stage_id=stage_id,
                               move_to=move_to, if_match=if_match)
