"""Lead intake: a marketing tool's customer, contact and opportunity in one call
(`leads:write`: a lead only ever adds records, so a marketing tool's key needs no other
scope)."""

from fastapi import Response, status

from salescore.api.deps import CallerDep, UnitOfWorkDep
from salescore.api.errors import problem_responses
from salescore.api.routing import Router
from salescore.api.v1.integrations.lead_schemas import LeadCreate, LeadRead
from salescore.services.integrations import leads

router = Router(tags=["leads"])


@router.post("/v1/leads", response_model=LeadRead,
             responses={201: {"model": LeadRead, "description": "Created"},
                        **problem_responses(404, 409)})
async def submit_lead(body: LeadCreate, caller: CallerDep, uow: UnitOfWorkDep,
                      response: Response) -> LeadRead:
    """Match each part of the lead to a record of the organization, or create it, in one
    transaction: the customer by `external_id`, else `org_number`; the contact by
    `external_id`, else its e-mail among the customer's contacts; the opportunity by
    `external_id`. A matched record is only referred to, never changed (`created:
    false`). 201 when the lead created any record, 200 when every one was there already
    (a lead sent again): so a retry, with `Idempotency-Key` or without, writes nothing
    twice. The owner is `owner_id` or `owner_email`, else the caller (an API key must
    give one). `type`, `source` and `campaign` may be names; a name that stands for
    nothing is a 422 naming the field (`opportunity.source`), and nothing is written. A
    contact `external_id` that a contact of another customer holds is a 409."""
    outcome = await leads.take_lead(
        uow, caller=caller, customer=body.customer.model_dump(),
        contact=None if body.contact is None else body.contact.model_dump(),
        opportunity=body.opportunity.model_dump(exclude_none=True))
    if outcome.created_any:
        response.status_code = status.HTTP_201_CREATED
    return LeadRead.of(outcome)
