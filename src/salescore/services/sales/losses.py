"""The loss reason and note of a write into a lost stage, on every way there is (`/lose`,
`/move`, PATCH, create, upsert): read what the rule needs, apply `give_loss`."""

from typing import Any

from salescore.domain.access.organization import Organization
from salescore.domain.errors import NotFound
from salescore.domain.sales.lists import ListItem, ListKind
from salescore.domain.sales.opportunities import Opportunity, give_loss, gives_loss_reason
from salescore.repositories.unit_of_work import UnitOfWork


async def settle_loss(uow: UnitOfWork, organization_id: int, before: Opportunity | None,
                      after: Opportunity, values: dict[str, Any],
                      organization: Organization | None = None) -> Opportunity:
    """`after` with the loss reason and note `values` give (else those it had), under the
    rules of `give_loss`; the settings and the reason are read only when a reason is
    being given."""
    reason_id = values.get("loss_reason_id", before.loss_reason_id if before else None)
    note = values.get("loss_note", before.loss_note if before else None)
    reason: ListItem | None = None
    required = False
    if gives_loss_reason(before, after, reason_id):
        if organization is None:
            organization = await uow.organizations.get(organization_id)
            assert organization is not None, "a caller's organization always exists"
        required = organization.loss_reason_required
        if reason_id is not None:
            reason = await uow.lists(ListKind.LOSS_REASON).get(organization_id, reason_id)
            if reason is None:
                raise NotFound("loss reason", field="loss_reason_id")
    return give_loss(before, after, loss_reason_id=reason_id, loss_note=note, reason=reason,
                     reason_required=required)
