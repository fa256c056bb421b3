"""The product catalogue."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Response, status

from salescore.api.deps import AppStateDep, CallerDep, IfMatchDep, UnitOfWorkDep, etag
from salescore.api.errors import problem_responses
from salescore.api.listing import Filter, ListRequest, PageOf, list_parameters, page_response
from salescore.api.routing import Router
from salescore.api.v1.quotes.product_schemas import (
    ProductCreate,
    ProductRead,
    ProductUpdate,
    ProductUpsert,
)
from salescore.api.v1.schemas import ExternalId, Id, Money
from salescore.services.quotes import products

router = Router(tags=["products"])
ExternalIdPath = Annotated[ExternalId, Path(description="The integrator's id.")]
ProductList = Annotated[ListRequest, Depends(list_parameters("products", [
    Filter("q", str, pattern=True), Filter("sku", str, pattern=True),
    Filter("name", str, pattern=True), Filter("active", bool), Filter("currency", str),
    Filter("unit_price", Money, ranges=True), Filter("external_id", str),
    Filter("id", int, ranges=True),
    Filter("created_at", datetime, ranges=True), Filter("updated_at", datetime, ranges=True),
], sorts=("id", "sku", "name", "unit_price", "created_at", "updated_at")))]


def _location(product_id: int) -> str:
    return f"/v1/products/{product_id}"


@router.get("/v1/products", response_model=PageOf[ProductRead])
async def list_products(caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                        request: ProductList) -> Response:
    """`q` looks in the sku and the name; `sku` and `name` take the same patterns."""
    page = await products.list_products(uow, caller=caller, query=request.query)
    return page_response(state, request, page, ProductRead.of)


@router.post("/v1/products", response_model=ProductRead,
             status_code=status.HTTP_201_CREATED, responses=problem_responses(409))
async def create_product(body: ProductCreate, caller: CallerDep, uow: UnitOfWorkDep,
                         response: Response) -> ProductRead:
    """A new product; its currency defaults to the organization's. A sku or external id
    another product has is 409."""
    product = await products.create_product(uow, caller=caller, values=body.model_dump())
    response.headers["ETag"] = etag(product.version)
    response.headers["Location"] = _location(product.id)
    return ProductRead.of(product)


@router.put("/v1/products/by-external-id/{external_id}", response_model=ProductRead,
            responses={201: {"model": ProductRead, "description": "Created"},
                       **problem_responses(409, 412)})
async def upsert_product(external_id: ExternalIdPath, body: ProductUpsert,
                         caller: CallerDep, uow: UnitOfWorkDep, if_match: IfMatchDep,
                         response: Response) -> ProductRead:
    """Create (201) or replace (200) the product with this external id; fields left out
    are cleared (`currency`: the organization's, `active`: true). A body that changes
    nothing leaves the version as it is."""
    product, created = await products.upsert_product(
        uow, caller=caller, external_id=external_id, values=body.model_dump(),
        if_match=if_match)
    response.headers["ETag"] = etag(product.version)
    if created:
        response.status_code = status.HTTP_201_CREATED
        response.headers["Location"] = _location(product.id)
    return ProductRead.of(product)


@router.get("/v1/products/{product_id}", response_model=ProductRead,
            responses=problem_responses(404))
async def read_product(product_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                       response: Response) -> ProductRead:
    """One product of the catalogue, active or not, and its ETag for a later
    `If-Match`."""
    product = await products.get_product(uow, caller=caller, product_id=product_id)
    response.headers["ETag"] = etag(product.version)
    return ProductRead.of(product)


@router.patch("/v1/products/{product_id}", response_model=ProductRead,
              responses=problem_responses(404, 409, 412))
async def update_product(product_id: Id, body: ProductUpdate, caller: CallerDep,
                         uow: UnitOfWorkDep, if_match: IfMatchDep,
                         response: Response) -> ProductRead:
    """Change the fields given; `null` clears `description`, `unit_cost` and
    `external_id`. Lines already on opportunities keep the price and cost they took."""
    product = await products.update_product(uow, caller=caller, product_id=product_id,
                                            values=body.changes(), if_match=if_match)
    response.headers["ETag"] = etag(product.version)
    return ProductRead.of(product)


@router.delete("/v1/products/{product_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(404, 409, 412))
async def delete_product(product_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                         if_match: IfMatchDep) -> None:
    """Remove a product no opportunity's line has (409 otherwise: deactivate it)."""
    await products.delete_product(uow, caller=caller, product_id=product_id,
                                  if_match=if_match)
