"""Domain events: what happened, in past tense, recorded in the event log."""

from dataclasses import dataclass, field, replace
from typing import Any

BOOKKEEPING = ("version", "updated_at", "updated_by")

# Every type of event the domain records, with what it means: the one registry that
# `GET /v1/event-types` lists and webhook endpoints' `event_types` are checked against. A
# DomainEvent of a type not here is refused when it is made.
EVENT_TYPES: dict[str, str] = {
    "organization.created": "An organization was set up.",
    "organization.settings_changed": "The organization's settings changed.",
    "user.created": "A user was added.",
    "user.updated": "A user's name, role, unit or active flag changed.",
    "api_key.created": "An API key was made.",
    "api_key.revoked": "An API key was revoked.",
    "customer.created": "A customer was added.",
    "customer.updated": "A customer's fields changed.",
    "customer.deleted": "A customer was deleted.",
    "contact.created": "A contact was added.",
    "contact.updated": "A contact's fields changed.",
    "contact.deleted": "A contact was deleted.",
    "campaign.created": "A campaign was added.",
    "campaign.updated": "A campaign changed.",
    "campaign.deleted": "A campaign was deleted.",
    **{f"{unit}.{done}": f"A {unit.replace('_', ' ')} was {done}."
       for unit in ("department", "sales_region", "sales_group")
       for done in ("created", "updated", "deleted")},
    **{f"{item}.{done}": f"An item of the {item.replace('_', ' ')} list was {done}."
       for item in ("opportunity_type", "source", "loss_reason")
       for done in ("created", "updated", "deleted")},
    "stage.created": "A stage was added to a sales process.",
    "stage.updated": "A stage changed.",
    "stage.deleted": "A stage was removed from its sales process.",
    "sales_process.created": "A sales process was made.",
    "sales_process.updated": "A sales process or one of its stages changed.",
    "sales_process.deleted": "A sales process was deleted.",
    "stages.reordered": "A sales process's stages were put in another order.",
    "opportunity.created": "An opportunity was created.",
    "opportunity.updated": "An opportunity's fields changed (not its stage or status).",
    "opportunity.stage_changed": "An open opportunity moved to another stage.",
    "opportunity.won": "An opportunity was won.",
    "opportunity.lost": "An opportunity was lost.",
    "opportunity.expired": "An opportunity expired.",
    "opportunity.reopened": "A closed opportunity was opened again.",
    "opportunity.deleted": "An opportunity was deleted (a tombstone).",
    "opportunity.seller_changed": "An opportunity's sellers or their shares changed.",
    "activity.created": "An activity (task, call, meeting, note) was added.",
    "activity.updated": "An activity changed.",
    "activity.completed": "An activity was marked done.",
    "activity.deleted": "An activity was deleted.",
    "exchange_rate.created": "An exchange rate was added.",
    "exchange_rate.updated": "An exchange rate changed.",
    "exchange_rate.deleted": "An exchange rate was deleted.",
    "product.created": "A product was added.",
    "product.updated": "A product changed.",
    "product.deleted": "A product was deleted.",
    "quote_template.created": "A quote template was added.",
    "quote_template.updated": "A quote template changed.",
    "quote_template.deleted": "A quote template was deleted.",
    "quote.created": "A draft quote was made from the opportunity's lines.",
    "quote.updated": "A draft quote changed.",
    "quote.deleted": "A draft quote was deleted.",
    "quote.sent": "A quote was sent: numbered, with its public link.",
    "quote.viewed": "The customer opened a quote's page for the first time.",
    "quote.link_renewed": "A quote's public link was replaced by a new one.",
    "quote.superseded": "A sent quote was replaced by a newer one.",
    "quote.signed": "The customer signed a quote (on its page or by e-signature).",
    "quote.change_requested": "The customer asked for a change to a quote.",
    "quote.rejected": "The customer rejected a quote.",
    "quote.expired": "A sent quote passed its valid-until date unanswered.",
    "order.linked": "The ERP linked an order to an opportunity.",
    "order.updated": "A linked order changed.",
    "esign_provider.created": "An e-signature provider was registered.",
    "esign_provider.updated": "An e-signature provider changed.",
    "esign_provider.deleted": "An e-signature provider was removed.",
    "esign_provider.secret_rotated": "An e-signature provider's secret was rotated.",
    "webhook_endpoint.created": "A webhook endpoint was registered.",
    "webhook_endpoint.updated": "A webhook endpoint changed, or was disabled or enabled.",
    "webhook_endpoint.deleted": "A webhook endpoint was removed.",
    "webhook_endpoint.secret_rotated": "A webhook endpoint's signing secret was rotated.",
}


@dataclass(frozen=True, slots=True)
class DomainEvent:
    type: str
    aggregate_type: str
    aggregate_id: int
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"{self.type!r} is not a registered event type (EVENT_TYPES)")


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields whose value differs, as `{field: {"from": old, "to": new}}`."""
    return {
        name: {"from": before.get(name), "to": value}
        for name, value in after.items()
        if before.get(name) != value
    }


def unchanged(before: Any, after: Any) -> bool:
    """True when a write left a record (a dataclass) as it was but for the bookkeeping
    every write updates: the write changed nothing, and is not kept (no new version, no
    event), so that repeating a call changes nothing either."""
    kept = {name: getattr(before, name) for name in BOOKKEEPING if hasattr(before, name)}
    same: bool = replace(after, **kept) == before
    return same
