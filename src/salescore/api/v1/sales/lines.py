"""The product lines of an opportunity (DOMAIN.md §6). Lines have no ETag of their own:
every answer carries the opportunity's, and every write takes its `If-Match` and gives it
a new version (and one `opportunity.updated` event)."""

from fastapi import Response, status

from salescore.api.deps import CallerDep, IfMatchDep, UnitOfWorkDep, etag
from salescore.api.errors import problem_responses
from salescore.api.listing import PageOf
from salescore.api.routing import Router
from salescore.api.v1.sales.line_schemas import LineCreate, LineOrder, LineRead, LineUpdate
from salescore.api.v1.schemas import Id
from salescore.domain.sales.lines import Line
from salescore.services.sales import lines as service

router = Router(prefix="/v1/opportunities/{opportunity_id}/lines", tags=["opportunities"])
WRITE_ERRORS = problem_responses(404, 409, 412)


def _page(response: Response, version: int, lines: tuple[Line, ...]) -> PageOf[LineRead]:
    response.headers["ETag"] = etag(version)
    return PageOf[LineRead](data=[LineRead.of(line) for line in lines], next_cursor=None)


def _one(response: Response, answer: service.LineAnswer) -> LineRead:
    response.headers["ETag"] = etag(answer.opportunity.version)
    return LineRead.of(answer.line)


@router.get("", response_model=PageOf[LineRead], responses=problem_responses(404))
async def list_lines(opportunity_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                     response: Response) -> PageOf[LineRead]:
    """Every line of the opportunity (at most 500) in position order, on one page."""
    answer = await service.list_lines(uow, caller=caller, opportunity_id=opportunity_id)
    return _page(response, answer.opportunity.version, answer.lines)


@router.post("", response_model=LineRead, status_code=status.HTTP_201_CREATED,
             responses=WRITE_ERRORS)
async def add_line(opportunity_id: Id, body: LineCreate, caller: CallerDep,
                   uow: UnitOfWorkDep, if_match: IfMatchDep, response: Response) -> LineRead:
    """A new line, last. An unknown product is 404 naming `product_id`; an inactive one,
    or a price the product cannot give (another currency), is 422. The answer's ETag is
    the opportunity's new one."""
    answer = await service.add_line(uow, caller=caller, opportunity_id=opportunity_id,
                                    values=body.model_dump(exclude_unset=True),
                                    if_match=if_match)
    response.headers["Location"] = (f"/v1/opportunities/{opportunity_id}/lines/"
                                     f"{answer.line.id}")
    return _one(response, answer)


@router.put("/order", response_model=PageOf[LineRead], responses=WRITE_ERRORS)
async def reorder_lines(opportunity_id: Id, body: LineOrder, caller: CallerDep,
                        uow: UnitOfWorkDep, if_match: IfMatchDep,
                        response: Response) -> PageOf[LineRead]:
    """The lines in the order given; `line_ids` names every line, each once."""
    answer = await service.reorder_lines(uow, caller=caller, opportunity_id=opportunity_id,
                                         line_ids=body.line_ids, if_match=if_match)
    return _page(response, answer.opportunity.version, answer.lines)


@router.get("/{line_id}", response_model=LineRead, responses=problem_responses(404))
async def read_line(opportunity_id: Id, line_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                    response: Response) -> LineRead:
    """One line, with its derived `line_total` and `line_margin`. The ETag is the
    opportunity's, for `If-Match` on a line write."""
    return _one(response, await service.get_line(uow, caller=caller,
                                                 opportunity_id=opportunity_id,
                                                 line_id=line_id))


@router.patch("/{line_id}", response_model=LineRead, responses=WRITE_ERRORS)
async def update_line(opportunity_id: Id, line_id: Id, body: LineUpdate, caller: CallerDep,
                      uow: UnitOfWorkDep, if_match: IfMatchDep,
                      response: Response) -> LineRead:
    """The fields given change; the line keeps its product (and its unit cost snapshot)."""
    return _one(response, await service.change_opportunity_line(
        uow, caller=caller, opportunity_id=opportunity_id, line_id=line_id,
        values=body.changes(), if_match=if_match))


@router.delete("/{line_id}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
async def remove_line(opportunity_id: Id, line_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                      if_match: IfMatchDep) -> Response:
    """The line goes; those after it move up. The answer's ETag is the opportunity's."""
    opportunity = await service.remove_line(uow, caller=caller, opportunity_id=opportunity_id,
                                            line_id=line_id, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT,
                    headers={"ETag": etag(opportunity.version)})
