"""Opportunity types, sources and loss reasons: one route shape for three lists."""

import inspect
from typing import Annotated, Any

from fastapi import Depends, Response, status

from salescore.api.deps import AppStateDep, CallerDep, IfMatchDep, UnitOfWorkDep, etag
from salescore.api.errors import problem_responses
from salescore.api.listing import Filter, ListRequest, PageOf, list_parameters, page_response
from salescore.api.routing import Router
from salescore.api.v1.sales.setup_schemas import (
    ListItemCreate,
    ListItemRead,
    ListItemsRead,
    ListItemUpdate,
    ListOrder,
)
from salescore.api.v1.schemas import Id, Integer
from salescore.domain.sales.lists import ListKind
from salescore.services.sales import lists

router = Router(prefix="/v1/lists", tags=["lists"])
PATHS = {ListKind.OPPORTUNITY_TYPE: "opportunity-types", ListKind.SOURCE: "sources",
         ListKind.LOSS_REASON: "loss-reasons"}


def _by_position(dependency: Any) -> Any:
    """The list parameters with `position` as the sort when none is asked for."""
    signature = inspect.signature(dependency)
    dependency.__signature__ = signature.replace(parameters=[
        p.replace(default="position") if p.name == "sort" else p
        for p in signature.parameters.values()])
    return dependency


def _add_routes(kind: ListKind, path: str) -> None:
    Listing = Annotated[ListRequest, Depends(_by_position(list_parameters(
        f"lists/{path}",
        [Filter("id", int, ranges=True), Filter("name", str, pattern=True),
         Filter("active", bool), Filter("position", Integer, ranges=True)],
        sorts=("position", "id", "name", "created_at", "updated_at"))))]
    # Route names give the operation ids (`listLossReasons`, `createLossReason`).
    many, one = path.replace("-", "_"), path.removesuffix("s").replace("-", "_")

    @router.get(f"/{path}", response_model=PageOf[ListItemRead], name=f"list_{many}")
    async def list_items(caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                         request: Listing) -> Response:
        """The items in list order unless `sort` says otherwise."""
        page = await lists.list_items(uow, caller=caller, kind=kind, query=request.query)
        return page_response(state, request, page, ListItemRead.of)

    @router.post(f"/{path}", response_model=ListItemRead, status_code=status.HTTP_201_CREATED,
                 responses=problem_responses(409), name=f"create_{one}")
    async def create_item(body: ListItemCreate, caller: CallerDep, uow: UnitOfWorkDep,
                          response: Response) -> ListItemRead:
        """A new item; a name the list has already, in any case, is a conflict."""
        item = await lists.create_item(uow, caller=caller, kind=kind, **body.model_dump())
        response.headers["ETag"] = etag(item.version)
        response.headers["Location"] = f"/v1/lists/{path}/{item.id}"
        return ListItemRead.of(item)

    @router.put(f"/{path}/order", response_model=ListItemsRead, name=f"reorder_{many}")
    async def reorder_items(body: ListOrder, caller: CallerDep,
                            uow: UnitOfWorkDep) -> ListItemsRead:
        """Re-order the whole list: `ids` names every item exactly once."""
        items = await lists.reorder_items(uow, caller=caller, kind=kind, ids=body.ids)
        return ListItemsRead(data=[ListItemRead.of(i) for i in items])

    @router.get(f"/{path}/{{item_id}}", response_model=ListItemRead,
                responses=problem_responses(404), name=f"read_{one}")
    async def read_item(item_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                        response: Response) -> ListItemRead:
        """One item of the list, active or not, and its ETag for a later `If-Match`."""
        item = await lists.get_item(uow, caller=caller, kind=kind, item_id=item_id)
        response.headers["ETag"] = etag(item.version)
        return ListItemRead.of(item)

    @router.patch(f"/{path}/{{item_id}}", response_model=ListItemRead,
                  responses=problem_responses(404, 409, 412), name=f"update_{one}")
    async def update_item(item_id: Id, body: ListItemUpdate, caller: CallerDep,
                          uow: UnitOfWorkDep, if_match: IfMatchDep,
                          response: Response) -> ListItemRead:
        """Rename, (de)activate or move the item; moving shifts the items in between."""
        item = await lists.update_item(uow, caller=caller, kind=kind, item_id=item_id,
                                       values=body.changes(), if_match=if_match)
        response.headers["ETag"] = etag(item.version)
        return ListItemRead.of(item)

    @router.delete(f"/{path}/{{item_id}}", status_code=status.HTTP_204_NO_CONTENT,
                   responses=problem_responses(404, 409, 412), name=f"delete_{one}")
    async def delete_item(item_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                          if_match: IfMatchDep) -> None:
        """Remove an item no opportunity uses (409 otherwise: deactivate it instead)."""
        await lists.delete_item(uow, caller=caller, kind=kind, item_id=item_id,
                                if_match=if_match)


for _kind, _path in PATHS.items():
    _add_routes(_kind, _path)
