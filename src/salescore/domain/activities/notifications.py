"""Notifications: what a user is told of what others did to their work (issue 4)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from salescore.domain.events import DomainEvent


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    organization_id: int
    user_id: int
    type: str
    opportunity_id: int | None
    activity_id: int | None
    quote_id: int | None
    text: str
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewNotification:
    user_id: int
    type: str
    text: str
    opportunity_id: int | None = None
    activity_id: int | None = None
    quote_id: int | None = None


# A customer's answer to a quote, and what each seller of its opportunity is told.
QUOTE_ANSWERS = {"quote.signed": ("quote_signed", "signed"),
                 "quote.change_requested": ("quote_change_requested", "asked for a change to"),
                 "quote.rejected": ("quote_rejected", "rejected")}


def _quote_answered(event: DomainEvent) -> list[NewNotification]:
    kind, did = QUOTE_ANSWERS[event.type]
    data = event.data
    who = data.get("answered_by") or "The customer"
    text = f"{who} {did} the quote {data.get('number')}"
    if data.get("comment"):
        text += f": {data['comment']}"
    return [NewNotification(user_id, kind, text[:2000], opportunity_id=data["opportunity_id"],
                            quote_id=event.aggregate_id)
            for user_id in data.get("seller_ids", ())]


def _new_value(event: DomainEvent, field: str) -> Any:
    change = event.data.get("changes", {}).get(field)
    return None if change is None else change.get("to")


def notifications_for(event: DomainEvent, actor: dict[str, Any]) -> list[NewNotification]:
    """Whom an event concerns, besides whoever caused it:
    - an opportunity given a (new) owner: the owner (`opportunity_assigned`);
    - sellers added to an opportunity: each new seller (`seller_share_given`);
    - an activity given a (new) assignee: the assignee (`activity_assigned`);
    - a quote signed, or a change asked for, or rejected: every seller of its opportunity
      (`quote_signed`, `quote_change_requested`, `quote_rejected`, with the comment).
    Nobody is notified of what they did themselves."""
    name = event.data.get("name", "")
    found: list[NewNotification] = []
    if event.aggregate_type == "opportunity":
        owner = _new_value(event, "owner_id")
        if owner is not None:
            found.append(NewNotification(owner, "opportunity_assigned",
                                         f"The opportunity {name} was assigned to you",
                                         opportunity_id=event.aggregate_id))
        sellers = event.data.get("changes", {}).get("sellers")
        if event.type == "opportunity.seller_changed" and sellers:
            before = {s["user_id"] for s in sellers["from"]}
            found += [NewNotification(s["user_id"], "seller_share_given",
                                      f"You were given {s['share']} % of the opportunity "
                                      f"{name}", opportunity_id=event.aggregate_id)
                      for s in sellers["to"] if s["user_id"] not in before]
    elif event.type in QUOTE_ANSWERS:
        found = _quote_answered(event)
    elif event.aggregate_type == "activity":
        assignee = _new_value(event, "assignee_id")
        if assignee is not None:
            found.append(NewNotification(
                assignee, "activity_assigned",
                f"The {event.data.get('kind', 'activity')} {event.data.get('subject', '')} "
                "was assigned to you", opportunity_id=event.data.get("opportunity_id"),
                activity_id=event.aggregate_id))
    actor_user = actor.get("id") if actor.get("type") == "user" else None
    return [n for n in found if n.user_id != actor_user]
