"""What a new organization starts with, so that its first opportunity needs only a customer
and a name: one sales process, the default for everybody, and loss reasons and sources to
pick from (DOMAIN.md §4). They are ordinary records, made as an admin would make them, and
renamed, re-ordered, deactivated or removed like any other; `create-organization --empty`
starts without them."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from salescore.domain.sales.lists import ListKind
from salescore.domain.sales.processes import DefaultFor, StageDraft, StageKind


@dataclass(frozen=True, slots=True)
class StarterSetup:
    process_name: str
    stages: tuple[StageDraft, ...]
    default_for: DefaultFor
    lists: Mapping[ListKind, tuple[str, ...]]


STARTER = StarterSetup(
    process_name="Standard",
    stages=(
        StageDraft("First contact", Decimal(10)),
        StageDraft("Initial contact made", Decimal(25)),
        StageDraft("Written quote sent", Decimal(50)),
        StageDraft("Verbal acceptance", Decimal(75)),
        StageDraft("Quote signed", Decimal(90), marks_quote_signed=True),
        StageDraft("Contract signed", Decimal(100), StageKind.WON),
        StageDraft("Lost", Decimal(0), StageKind.LOST),
    ),
    default_for=DefaultFor(all=True),
    lists={
        ListKind.LOSS_REASON: ("Price", "Chose a competitor", "No budget", "No decision",
                               "Other"),
        ListKind.SOURCE: ("Website", "Referral", "Trade fair", "Cold call", "Campaign"),
    },
)
