"""Departments, sales regions and sales groups: one router shape for three resources."""

from typing import Annotated

from fastapi import Depends, Response, status
from pydantic import BaseModel

from salescore.api.deps import AppStateDep, CallerDep, IfMatchDep, UnitOfWorkDep, etag
from salescore.api.errors import problem_responses
from salescore.api.listing import Filter, ListRequest, PageOf, list_parameters, page_response
from salescore.api.routing import Router
from salescore.api.v1.access.schemas import (
    OrgUnitCreate,
    OrgUnitRead,
    OrgUnitUpdate,
    SalesGroupCreate,
    SalesGroupRead,
    SalesGroupUpdate,
)
from salescore.api.v1.schemas import Id, Patch
from salescore.domain.access.organization import GroupType, UnitKind
from salescore.services.access import org_units


def unit_router(kind: UnitKind, path: str, create: type[BaseModel], update: type[Patch],
                read: type[OrgUnitRead]) -> Router:
    router = Router(prefix=f"/v1/{path}", tags=["organization"])
    filters = [Filter("id", int, ranges=True), Filter("name", str, pattern=True)]
    if kind is UnitKind.SALES_GROUP:
        filters.append(Filter("group_type", GroupType))
    Listing = Annotated[ListRequest, Depends(list_parameters(
        path, filters, sorts=("id", "name", "created_at", "updated_at")))]
    # Route names give the operation ids (`listSalesRegions`, `createSalesRegion`).
    many, one = path.replace("-", "_"), path.removesuffix("s").replace("-", "_")
    words, word = path.replace("-", " "), path.removesuffix("s").replace("-", " ")

    @router.get("", response_model=PageOf[read], name=f"list_{many}",  # type: ignore[valid-type]
                description=f"The organization's {words}, a page at a time.")
    async def list_units(caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                         request: Listing) -> Response:
        page = await org_units.list_units(uow, caller=caller, kind=kind, query=request.query)
        return page_response(state, request, page, read.of)

    @router.post("", response_model=read, status_code=status.HTTP_201_CREATED,
                 responses=problem_responses(409), name=f"create_{one}",
                 description=f"A new {word} (needs `organization:write`); a name another "
                             f"{word} has is a conflict (409).")
    async def create_unit(body: create, caller: CallerDep,  # type: ignore[valid-type]
                          uow: UnitOfWorkDep, response: Response) -> OrgUnitRead:
        unit = await org_units.create_unit(uow, caller=caller, kind=kind,
                                           values=body.model_dump())  # type: ignore[attr-defined]
        response.headers["ETag"] = etag(unit.version)
        response.headers["Location"] = f"/v1/{path}/{unit.id}"
        return read.of(unit)

    @router.get("/{unit_id}", response_model=read, responses=problem_responses(404),
                name=f"read_{one}", description=f"One {word}, and its ETag.")
    async def read_unit(unit_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                        response: Response) -> OrgUnitRead:
        unit = await org_units.get_unit(uow, caller=caller, kind=kind, unit_id=unit_id)
        response.headers["ETag"] = etag(unit.version)
        return read.of(unit)

    @router.patch("/{unit_id}", response_model=read,
                  responses=problem_responses(404, 409, 412), name=f"update_{one}",
                  description=f"Change the fields given (needs `organization:write`); a "
                              f"name another {word} has is a conflict (409).")
    async def update_unit(unit_id: Id, body: update,  # type: ignore[valid-type]
                          caller: CallerDep, uow: UnitOfWorkDep, if_match: IfMatchDep,
                          response: Response) -> OrgUnitRead:
        unit = await org_units.update_unit(uow, caller=caller, kind=kind, unit_id=unit_id,
                                           values=body.changes(),  # type: ignore[attr-defined]
                                           if_match=if_match)
        response.headers["ETag"] = etag(unit.version)
        return read.of(unit)

    @router.delete("/{unit_id}", status_code=status.HTTP_204_NO_CONTENT,
                   responses=problem_responses(404, 412), name=f"delete_{one}")
    async def delete_unit(unit_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                          if_match: IfMatchDep) -> None:
        """Remove it; users in it keep working, without it."""
        await org_units.delete_unit(uow, caller=caller, kind=kind, unit_id=unit_id,
                                    if_match=if_match)

    return router


routers = [
    unit_router(UnitKind.DEPARTMENT, "departments", OrgUnitCreate, OrgUnitUpdate, OrgUnitRead),
    unit_router(UnitKind.SALES_REGION, "sales-regions", OrgUnitCreate, OrgUnitUpdate,
                OrgUnitRead),
    unit_router(UnitKind.SALES_GROUP, "sales-groups", SalesGroupCreate, SalesGroupUpdate,
                SalesGroupRead),
]
