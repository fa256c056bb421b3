"""The sellers of an opportunity and their commission shares (DOMAIN.md §3)."""

from fastapi import Response

from salescore.api.deps import CallerDep, IfMatchDep, UnitOfWorkDep, etag
from salescore.api.errors import problem_responses
from salescore.api.routing import Router
from salescore.api.v1.sales.opportunity_schemas import (
    SellerCreate,
    SellerRead,
    SellersRead,
    SellerUpdate,
    WarningRead,
)
from salescore.api.v1.schemas import Id
from salescore.services.sales import sellers as service

router = Router(prefix="/v1/opportunities/{opportunity_id}/sellers",
                   tags=["opportunities"])
WRITE_ERRORS = problem_responses(404, 409, 412)


def _answer(response: Response, answer: service.SellersAnswer) -> SellersRead:
    response.headers["ETag"] = etag(answer.opportunity.version)
    return SellersRead(sellers=[SellerRead.of(s) for s in answer.opportunity.sellers],
                       total_share=answer.total_share,
                       warnings=[WarningRead.of(w) for w in answer.warnings])


@router.get("", response_model=SellersRead, responses=problem_responses(404))
async def list_sellers(opportunity_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                       response: Response) -> SellersRead:
    """The opportunity's sellers and their shares, `total_share`, and `warnings` when the
    shares do not add up to 100 %. The ETag is the opportunity's."""
    return _answer(response, await service.list_sellers(uow, caller=caller,
                                                        opportunity_id=opportunity_id))


@router.post("", response_model=SellersRead, responses=WRITE_ERRORS)
async def add_seller(opportunity_id: Id, body: SellerCreate, caller: CallerDep,
                     uow: UnitOfWorkDep, if_match: IfMatchDep,
                     response: Response) -> SellersRead:
    """A new seller with `share`; the sellers already there split the rest equally, the
    leftover hundredths going to the earliest added. `share` must be below 100 while there
    are other sellers."""
    return _answer(response, await service.add_opportunity_seller(
        uow, caller=caller, opportunity_id=opportunity_id, user_id=body.user_id,
        share=body.share, if_match=if_match))


@router.patch("/{user_id}", response_model=SellersRead, responses=WRITE_ERRORS)
async def update_seller(opportunity_id: Id, user_id: Id, body: SellerUpdate,
                        caller: CallerDep, uow: UnitOfWorkDep, if_match: IfMatchDep,
                        response: Response) -> SellersRead:
    """Only this seller's share changes; `warnings` tells when the total is not 100 %."""
    return _answer(response, await service.change_opportunity_seller(
        uow, caller=caller, opportunity_id=opportunity_id, user_id=user_id,
        share=body.share, if_match=if_match))


@router.delete("/{user_id}", response_model=SellersRead, responses=WRITE_ERRORS)
async def remove_seller(opportunity_id: Id, user_id: Id, caller: CallerDep,
                        uow: UnitOfWorkDep, if_match: IfMatchDep,
                        response: Response) -> SellersRead:
    """The last seller stays. One seller left gets 100 %; several keep their shares and
    `warnings` gives the total."""
    return _answer(response, await service.remove_opportunity_seller(
        uow, caller=caller, opportunity_id=opportunity_id, user_id=user_id,
        if_match=if_match))
