"""Orders an ERP made from opportunities, linked back by the ERP's own order number."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Response, status

from salescore.api.deps import AppStateDep, CallerDep, IfMatchDep, UnitOfWorkDep, etag
from salescore.api.errors import problem_responses
from salescore.api.listing import Filter, ListRequest, PageOf, list_parameters, page_response
from salescore.api.routing import Router
from salescore.api.v1.sales.order_schemas import OrderLink, OrderRead
from salescore.api.v1.schemas import ExternalId, Id
from salescore.services.sales import orders as service

router = Router(tags=["orders"])
SystemPath = Annotated[ExternalId, Path(description="The ERP that made the order (its name "
                                                    "as the integration chooses it).")]
OrderNumberPath = Annotated[ExternalId, Path(description="The order's number in that ERP.")]
_FILTERS = [
    Filter("id", int, ranges=True), Filter("system", str), Filter("order_number", str),
    Filter("currency", str), Filter("status", str),
    Filter("ordered_at", datetime, ranges=True), Filter("created_at", datetime, ranges=True),
    Filter("updated_at", datetime, ranges=True),
]
_SORTS = ("id", "ordered_at", "created_at", "updated_at")
OrderList = Annotated[ListRequest, Depends(list_parameters(
    "orders", [*_FILTERS, Filter("opportunity_id", int)], sorts=_SORTS))]
OpportunityOrderList = Annotated[ListRequest, Depends(list_parameters(
    "opportunity-orders", _FILTERS, sorts=_SORTS))]


@router.put("/v1/opportunities/{opportunity_id}/orders/{system}/{order_number}",
            response_model=OrderRead,
            responses={201: {"model": OrderRead, "description": "Linked"},
                       **problem_responses(404, 409, 412)})
async def link_order(opportunity_id: Id, system: SystemPath, order_number: OrderNumberPath,
                     body: OrderLink, caller: CallerDep, uow: UnitOfWorkDep,
                     if_match: IfMatchDep, response: Response) -> OrderRead:
    """Link the order (201) or replace its terms (200); the same body again changes nothing.
    An opportunity of any status takes orders; the same number on another opportunity is
    409. An order in another currency than the opportunity's needs the organization's
    exchange rates on its day (422 naming `currency` otherwise). Keeps the opportunity's
    `ordered_amount` current without giving it a new version."""
    order, linked = await service.link_order(
        uow, caller=caller, opportunity_id=opportunity_id, system=system,
        order_number=order_number, **body.model_dump(), if_match=if_match)
    response.headers["ETag"] = etag(order.version)
    if linked:
        response.status_code = status.HTTP_201_CREATED
        response.headers["Location"] = f"/v1/orders/{order.id}"
    return OrderRead.of(order)


@router.get("/v1/opportunities/{opportunity_id}/orders", response_model=PageOf[OrderRead],
            responses=problem_responses(404))
async def list_opportunity_orders(opportunity_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                                  state: AppStateDep,
                                  request: OpportunityOrderList) -> Response:
    """The ERP orders linked to one opportunity (needs `orders:read`), with the filters of
    `GET /v1/orders`."""
    page = await service.list_orders(uow, caller=caller, query=request.query,
                                     opportunity_id=opportunity_id)
    return page_response(state, request, page, OrderRead.of)


@router.get("/v1/orders", response_model=PageOf[OrderRead])
async def list_orders(caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                      request: OrderList) -> Response:
    """Every order the ERPs linked to the organization's opportunities (needs
    `orders:read`); filter by `system` and `order_number` to find one."""
    page = await service.list_orders(uow, caller=caller, query=request.query)
    return page_response(state, request, page, OrderRead.of)


@router.get("/v1/orders/{order_id}", response_model=OrderRead,
            responses=problem_responses(404))
async def read_order(order_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                     response: Response) -> OrderRead:
    """One linked order, and its ETag for a later `If-Match` on the link."""
    order = await service.get_order(uow, caller=caller, order_id=order_id)
    response.headers["ETag"] = etag(order.version)
    return OrderRead.of(order)
