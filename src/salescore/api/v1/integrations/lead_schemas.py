"""Request and response bodies of lead intake: the parts are the API's own create bodies."""

from pydantic import BaseModel, Field

from salescore.api.v1.customers.schemas import ContactCreate, CustomerCreate
from salescore.api.v1.sales.opportunity_schemas import OpportunityFields
from salescore.api.v1.schemas import Email, ExternalId, Name, Strict
from salescore.domain.integrations.leads import LeadOutcome, LeadRecord


class LeadOpportunity(OpportunityFields):
    """An opportunity's create body without `customer_id` (the lead's customer), with
    names that may stand in for ids."""

    name: Name
    external_id: ExternalId | None = Field(
        default=None, description="The opportunity the lead is matched to, when there is "
                                  "one with this id; else the new one's.")
    owner_email: Email | None = Field(
        default=None, description="The owner by e-mail (a user of the organization), "
                                  "instead of owner_id.")
    type: Name | None = Field(default=None, description="An opportunity type by name "
                                                        "(any case), instead of type_id.")
    source: Name | None = Field(default=None, description="A source by name (any case), "
                                                          "instead of source_id.")
    campaign: Name | None = Field(
        default=None, description="A campaign by name (any case), instead of campaign_id; "
                                  "of several with the name, the one that is active.")


class LeadCreate(Strict):
    customer: CustomerCreate = Field(description="Matched by external_id, else by "
                                                 "org_number, else created.")
    contact: ContactCreate | None = Field(
        default=None, description="Matched by external_id, else by e-mail among the "
                                  "customer's contacts, else created.")
    opportunity: LeadOpportunity = Field(description="Matched by external_id, else "
                                                     "created.")


class LeadRecordRead(BaseModel):
    id: int
    created: bool = Field(description="false: the record was there, and is left as it was.")

    @classmethod
    def of(cls, record: LeadRecord) -> "LeadRecordRead":
        return cls(id=record.id, created=record.created)


class LeadRead(BaseModel):
    customer: LeadRecordRead
    contact: LeadRecordRead | None
    opportunity: LeadRecordRead

    @classmethod
    def of(cls, outcome: LeadOutcome) -> "LeadRead":
        return cls(customer=LeadRecordRead.of(outcome.customer),
                   contact=None if outcome.contact is None
                   else LeadRecordRead.of(outcome.contact),
                   opportunity=LeadRecordRead.of(outcome.opportunity))
