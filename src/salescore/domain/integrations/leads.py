"""Lead intake (DOMAIN.md §6b): a marketing tool sends a customer, maybe a contact, and an
opportunity in one call; each is matched to a record the organization has, or created.
A matched record is only referred to, never changed."""

from collections.abc import Sequence
from dataclasses import dataclass

from salescore.domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class LeadRecord:
    """One record of a lead: its id, and whether the lead created it."""

    id: int
    created: bool


@dataclass(frozen=True, slots=True)
class LeadOutcome:
    customer: LeadRecord
    contact: LeadRecord | None
    opportunity: LeadRecord

    @property
    def created_any(self) -> bool:
        """Whether the lead wrote anything: one whose records were all there wrote
        nothing at all."""
        parts = (self.customer, self.contact, self.opportunity)
        return any(part is not None and part.created for part in parts)


@dataclass(frozen=True, slots=True)
class Named:
    """A record a name was looked up to: its id, and whether it is active."""

    id: int
    active: bool


def one_named(field: str, what: str, key: str, value: str, found: Sequence[Named]) -> int:
    """The record that `value` of `field` stands for (its `key`, a name or an e-mail, is
    compared case-insensitively): the only one that has it, or, when several share it (a
    campaign may run again under its name), the only active one among them. None, or no
    single choice, is refused naming the field."""
    if not found:
        raise InvalidInput.of(field, f"no {what} has the {key} {value!r}")
    if len(found) == 1:
        return found[0].id
    active = [record.id for record in found if record.active]
    if len(active) != 1:
        raise InvalidInput.of(field, f"{len(found)} {what}s have the {key} {value!r}; "
                                     "give the id instead")
    return active[0]
