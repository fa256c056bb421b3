"""Exchange rates to the organization's base currency, each valid from a date on."""

from datetime import date
from typing import Annotated

from fastapi import Depends, Response, status

from salescore.api.deps import AppStateDep, CallerDep, IfMatchDep, UnitOfWorkDep, etag
from salescore.api.errors import problem_responses
from salescore.api.listing import Filter, ListRequest, PageOf, list_parameters, page_response
from salescore.api.routing import Router
from salescore.api.v1.reports.schemas import (
    ExchangeRateCreate,
    ExchangeRateRead,
    ExchangeRateUpdate,
)
from salescore.api.v1.schemas import Id
from salescore.domain.reports.exchange_rates import ExchangeRate
from salescore.services.reports import exchange_rates as service

router = Router(prefix="/v1/exchange-rates", tags=["exchange rates"])
RateList = Annotated[ListRequest, Depends(list_parameters("exchange-rates", [
    Filter("id", int, ranges=True), Filter("currency", str),
    Filter("valid_from", date, ranges=True),
], sorts=("id", "currency", "valid_from", "created_at", "updated_at")))]


def _answer(response: Response, rate: ExchangeRate) -> ExchangeRateRead:
    response.headers["ETag"] = etag(rate.version)
    return ExchangeRateRead.of(rate)


@router.get("", response_model=PageOf[ExchangeRateRead])
async def list_exchange_rates(caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                              request: RateList) -> Response:
    """The organization's exchange rates to its base currency, a page at a time; a rate
    is base-currency units per unit of `currency`, as a decimal string."""
    page = await service.list_rates(uow, caller=caller, query=request.query)
    return page_response(state, request, page, ExchangeRateRead.of)


@router.post("", response_model=ExchangeRateRead, status_code=status.HTTP_201_CREATED,
             responses=problem_responses(409))
async def create_exchange_rate(body: ExchangeRateCreate, caller: CallerDep,
                               uow: UnitOfWorkDep, response: Response) -> ExchangeRateRead:
    """A rate for a currency other than the base currency, from `valid_from` until the
    currency's next rate. One rate per currency and date (409 for a second)."""
    rate = await service.create_rate(uow, caller=caller, **body.model_dump())
    response.headers["Location"] = f"/v1/exchange-rates/{rate.id}"
    return _answer(response, rate)


@router.get("/{rate_id}", response_model=ExchangeRateRead, responses=problem_responses(404))
async def read_exchange_rate(rate_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                             response: Response) -> ExchangeRateRead:
    """One exchange rate, and its ETag for a later `If-Match`."""
    return _answer(response, await service.get_rate(uow, caller=caller, rate_id=rate_id))


@router.patch("/{rate_id}", response_model=ExchangeRateRead,
              responses=problem_responses(404, 409, 412))
async def update_exchange_rate(rate_id: Id, body: ExchangeRateUpdate, caller: CallerDep,
                               uow: UnitOfWorkDep, if_match: IfMatchDep,
                               response: Response) -> ExchangeRateRead:
    """Change the fields given; moving a rate onto a date its currency has a rate for
    already is a conflict (409). Reports convert at the new rate from then on."""
    return _answer(response, await service.update_rate(
        uow, caller=caller, rate_id=rate_id, values=body.changes(), if_match=if_match))


@router.delete("/{rate_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(404, 412))
async def delete_exchange_rate(rate_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                               if_match: IfMatchDep) -> None:
    """Reports from then on convert at the currency's rate before it, if any."""
    await service.delete_rate(uow, caller=caller, rate_id=rate_id, if_match=if_match)
