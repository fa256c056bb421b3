"""Campaigns."""

from datetime import date
from typing import Annotated

from fastapi import Depends, Response, status

from salescore.api.deps import AppStateDep, CallerDep, IfMatchDep, UnitOfWorkDep, etag
from salescore.api.errors import problem_responses
from salescore.api.listing import Filter, ListRequest, PageOf, list_parameters, page_response
from salescore.api.routing import Router
from salescore.api.v1.sales.setup_schemas import CampaignCreate, CampaignRead, CampaignUpdate
from salescore.api.v1.schemas import Id
from salescore.services.sales import campaigns

router = Router(prefix="/v1/campaigns", tags=["campaigns"])
CampaignList = Annotated[ListRequest, Depends(list_parameters("campaigns", [
    Filter("id", int, ranges=True), Filter("name", str, pattern=True), Filter("active", bool),
    Filter("starts_on", date, ranges=True), Filter("ends_on", date, ranges=True),
], sorts=("id", "name", "starts_on", "ends_on", "created_at", "updated_at")))]


@router.get("", response_model=PageOf[CampaignRead])
async def list_campaigns(caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                         request: CampaignList) -> Response:
    """The organization's marketing campaigns, a page at a time, inactive ones too
    (filter with `active=true`)."""
    page = await campaigns.list_campaigns(uow, caller=caller, query=request.query)
    return page_response(state, request, page, CampaignRead.of)


@router.post("", response_model=CampaignRead, status_code=status.HTTP_201_CREATED)
async def create_campaign(body: CampaignCreate, caller: CallerDep, uow: UnitOfWorkDep,
                          response: Response) -> CampaignRead:
    """A new campaign (needs `sales_setup:write`) that opportunities can name as where
    they came from; `ends_on`, when given, is on or after `starts_on`."""
    campaign = await campaigns.create_campaign(uow, caller=caller, **body.model_dump())
    response.headers["ETag"] = etag(campaign.version)
    response.headers["Location"] = f"/v1/campaigns/{campaign.id}"
    return CampaignRead.of(campaign)


@router.get("/{campaign_id}", response_model=CampaignRead, responses=problem_responses(404))
async def read_campaign(campaign_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                        response: Response) -> CampaignRead:
    """One campaign, and its ETag for a later `If-Match`."""
    campaign = await campaigns.get_campaign(uow, caller=caller, campaign_id=campaign_id)
    response.headers["ETag"] = etag(campaign.version)
    return CampaignRead.of(campaign)


@router.patch("/{campaign_id}", response_model=CampaignRead,
              responses=problem_responses(404, 412))
async def update_campaign(campaign_id: Id, body: CampaignUpdate, caller: CallerDep,
                          uow: UnitOfWorkDep, if_match: IfMatchDep,
                          response: Response) -> CampaignRead:
    """Change the fields given; `null` opens either end of the period."""
    campaign = await campaigns.update_campaign(uow, caller=caller, campaign_id=campaign_id,
                                               values=body.changes(), if_match=if_match)
    response.headers["ETag"] = etag(campaign.version)
    return CampaignRead.of(campaign)


@router.delete("/{campaign_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(404, 409, 412))
async def delete_campaign(campaign_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                          if_match: IfMatchDep) -> None:
    """Remove a campaign no opportunity came from (409 otherwise: deactivate it)."""
    await campaigns.delete_campaign(uow, caller=caller, campaign_id=campaign_id,
                                    if_match=if_match)
