"""The opportunity lifecycle rules of DOMAIN.md §2, without a database."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salescore.domain.access.permissions import Caller, Role, Scope
from salescore.domain.errors import Conflict, Forbidden, InvalidInput
from salescore.domain.events import changes
from salescore.domain.sales.lists import ListItem, ListKind
from salescore.domain.sales.opportunities import (
    Opportunity,
    ProbabilitySource,
    Status,
    change_event,
    check_can_edit,
    expire,
    give_loss,
    lose,
    margin_percent,
    move,
    recorded_changes,
    reopen,
    seller_event,
    set_probability,
    snapshot,
    weighted_amount,
    win,
)
from salescore.domain.sales.processes import DefaultFor, SalesProcess, Stage, StageKind
from salescore.domain.sales.shares import Seller

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
P = Decimal


def stage(stage_id: int, kind: StageKind, probability: str, process_id: int = 1) -> Stage:
    return Stage(stage_id, process_id, f"S{stage_id}", stage_id, P(probability), kind)


PROCESS = SalesProcess(
    id=1, organization_id=1, name="Standard", active=True, note=None,
    default_for=DefaultFor(all=True), created_at=NOW, created_by=None, updated_at=NOW,
    updated_by=None, version=1,
    stages=(stage(1, StageKind.OPEN, "10"), stage(2, StageKind.OPEN, "50"),
            stage(3, StageKind.WON, "100"), stage(4, StageKind.LOST, "0"),
            stage(5, StageKind.WON, "100")))
OTHER = replace(PROCESS, id=2, stages=(stage(11, StageKind.OPEN, "20", 2),))


def opportunity(**fields: object) -> Opportunity:
    values: dict[str, object] = dict(
        id=7, organization_id=1, name="Deal", description=None, customer_id=1,
        contact_id=None, owner_id=10, sales_process_id=1, stage_id=1, last_open_stage_id=1,
        status=Status.OPEN, type_id=None, source_id=None, campaign_id=None,
        amount=P("1000.00"), currency="NOK", probability=P("10"),
        probability_source=ProbabilitySource.STAGE, margin_amount=None,
        expected_close_date=None, follow_up_date=None, previous_follow_up_date=None,
        loss_reason_id=None, loss_note=None, closed_at=None, project_ref=None,
        external_id=None, created_at=NOW, created_by=10, updated_at=NOW, updated_by=10,
        version=1, sellers=(Seller(10, 10_000),))
    values.update(fields)
    return Opportunity(**values)  # type: ignore[arg-type]


def test_a_new_stage_brings_its_probability():
    moved = move(opportunity(), PROCESS, 2, now=NOW)
    assert (moved.stage_id, moved.probability, moved.probability_source) == (
        2, P("50"), ProbabilitySource.STAGE)


def test_a_probability_given_with_the_stage_is_manual():
    moved = move(opportunity(), PROCESS, 2, now=NOW, probability=P("35"))
    assert (moved.probability, moved.probability_source) == (P("35"), ProbabilitySource.MANUAL)


def test_a_stage_of_another_process_moves_the_opportunity_there():
    moved = move(opportunity(), OTHER, 11, now=NOW)
    assert (moved.sales_process_id, moved.stage_id, moved.probability) == (2, 11, P("20"))


def test_a_stage_the_process_lacks_is_refused():
    with pytest.raises(InvalidInput):
        move(opportunity(), PROCESS, 11, now=NOW)


def test_a_won_stage_wins_at_one_hundred_and_closes():
    won = move(opportunity(), PROCESS, 3, now=NOW, probability=P("40"))
    assert (won.status, won.probability, won.closed_at) == (Status.WON, P("100"), NOW)


def test_winning_without_a_stage_takes_the_first_won_stage():
    assert win(opportunity(), PROCESS, now=NOW).stage_id == 3
    assert win(opportunity(), PROCESS, now=NOW, stage_id=5).stage_id == 5


def reason(reason_id: int = 3, *, active: bool = True) -> ListItem:
    return ListItem(reason_id, 1, ListKind.LOSS_REASON, "Price", 1, active, NOW, NOW, 1)


def lost_with(before: Opportunity, after: Opportunity, item: ListItem | None, *,
              note: str | None = None, required: bool = False) -> Opportunity:
    return give_loss(before, after, loss_reason_id=item.id if item else None, loss_note=note,
                     reason=item, reason_required=required)


def test_losing_is_at_zero_with_its_reason():
    before = opportunity()
    lost = lost_with(before, lose(before, PROCESS, now=NOW), reason(), note="price")
    assert (lost.status, lost.probability, lost.stage_id, lost.loss_reason_id,
            lost.loss_note) == (Status.LOST, P("0"), 4, 3, "price")


def test_a_required_loss_reason_must_be_given():
    before = opportunity()
    with pytest.raises(InvalidInput) as refused:
        lost_with(before, move(before, PROCESS, 4, now=NOW), None, required=True)
    assert refused.value.errors[0].field == "loss_reason_id"


def test_an_inactive_loss_reason_is_refused():
    before = opportunity()
    with pytest.raises(InvalidInput) as refused:
        lost_with(before, lose(before, PROCESS, now=NOW), reason(active=False))
    assert refused.value.errors[0].field == "loss_reason_id"


def test_a_lost_opportunity_keeps_its_reason_once_retired_or_once_required():
    lost = opportunity(status=Status.LOST, stage_id=4, closed_at=NOW, loss_reason_id=3)
    edited = give_loss(lost, replace(lost, amount=P("5")), loss_reason_id=3, loss_note=None,
                       reason=None, reason_required=True)
    assert edited.loss_reason_id == 3
    bare = replace(lost, loss_reason_id=None)
    assert give_loss(bare, bare, loss_reason_id=None, loss_note="late", reason=None,
                     reason_required=True).loss_note == "late"
    with pytest.raises(InvalidInput):
        give_loss(lost, lost, loss_reason_id=None, loss_note=None, reason=None,
                  reason_required=True)


@pytest.mark.parametrize("field", ["loss_reason_id", "loss_note"])
def test_only_a_lost_opportunity_has_a_loss_reason_or_note(field: str):
    before = opportunity()
    with pytest.raises(InvalidInput) as refused:
        give_loss(before, move(before, PROCESS, 2, now=NOW),
                  loss_reason_id=3 if field == "loss_reason_id" else None,
                  loss_note="x" if field == "loss_note" else None, reason=reason(),
                  reason_required=False)
    assert refused.value.errors[0].field == field


@pytest.mark.parametrize("status", [Status.WON, Status.LOST, Status.EXPIRED])
def test_a_final_opportunity_must_be_reopened_first(status: Status):
    closed = opportunity(status=status, closed_at=NOW, stage_id=3)
    with pytest.raises(Conflict):
        move(closed, PROCESS, 2, now=NOW)
    with pytest.raises(Conflict):
        expire(closed, now=NOW)
    with pytest.raises(Conflict):
        set_probability(closed, P("5"))


def test_reopening_returns_to_the_last_open_stage_and_clears_the_closing():
    before = move(opportunity(), PROCESS, 2, now=NOW)
    lost = lost_with(before, lose(before, PROCESS, now=NOW), reason(), note="price")
    reopened = reopen(lost, PROCESS)
    assert (reopened.status, reopened.stage_id, reopened.probability) == (
        Status.OPEN, 2, P("50"))
    assert (reopened.closed_at, reopened.loss_reason_id, reopened.loss_note) == (
        None, None, None)


def test_reopening_falls_back_to_the_first_open_stage_when_the_last_is_gone():
    gone = opportunity(status=Status.EXPIRED, closed_at=NOW, last_open_stage_id=99)
    assert reopen(gone, PROCESS).stage_id == 1


def test_expiring_keeps_the_stage_and_closes():
    expired = expire(opportunity(stage_id=2), now=NOW)
    assert (expired.status, expired.stage_id, expired.closed_at) == (Status.EXPIRED, 2, NOW)


@pytest.mark.parametrize(("amount", "probability", "weighted"), [
    ("0.25", "50", "0.12"), ("0.27", "50", "0.14"), ("0.35", "50", "0.18"),
    ("1000.00", "33.33", "333.30"), ("0", "75", "0.00")])
def test_weighted_amount_rounds_half_even(amount: str, probability: str, weighted: str):
    assert weighted_amount(P(amount), P(probability)) == P(weighted)


@given(st.decimals(min_value=0, max_value=10**12, places=2),
       st.decimals(min_value=0, max_value=100, places=2))
def test_weighted_amount_is_within_half_a_cent_of_the_exact_value(amount: Decimal,
                                                                   probability: Decimal):
    exact = amount * probability / 100
    assert abs(weighted_amount(amount, probability) - exact) <= P("0.005")


def test_margin_percent_is_derived_and_absent_without_an_amount():
    assert margin_percent(P("3000"), P("1000")) == P("33.33")
    assert margin_percent(P("0"), P("10")) is None
    assert margin_percent(P("10"), None) is None


def test_sellers_change_only_what_they_own_or_share_in():
    seller = Caller(1, Role.SELLER, frozenset({Scope.OPPORTUNITIES_WRITE}), user_id=11)
    with pytest.raises(Forbidden):
        check_can_edit(seller, opportunity())
    check_can_edit(seller, opportunity(owner_id=11))
    check_can_edit(seller, opportunity(sellers=(Seller(10, 5000), Seller(11, 5000))))
    check_can_edit(replace(seller, role=Role.MANAGER), opportunity())


def test_each_change_leaves_one_event_named_for_what_mattered_most():
    before = opportunity()
    assert change_event(before, before) is None
    assert change_event(None, before).type == "opportunity.created"  # type: ignore[union-attr]
    renamed = change_event(before, replace(before, name="New"))
    assert renamed is not None and renamed.type == "opportunity.updated"
    assert renamed.data["changes"] == {"name": {"from": "Deal", "to": "New"}}
    moved = change_event(before, move(before, PROCESS, 2, now=NOW))
    assert moved is not None and moved.type == "opportunity.stage_changed"
    won = change_event(before, win(before, PROCESS, now=NOW))
    assert won is not None and won.type == "opportunity.won"
    lost = lose(before, PROCESS, now=NOW)
    reopened = change_event(lost, reopen(lost, PROCESS))
    assert reopened is not None and reopened.type == "opportunity.reopened"


def test_a_seller_change_is_its_own_event_whatever_made_it():
    before = opportunity()
    assert seller_event(before, replace(before, name="New")) is None
    moved = seller_event(before, replace(before, owner_id=11, sellers=(Seller(11, 10_000),)))
    assert moved is not None and moved.type == "opportunity.seller_changed"
    assert moved.data["changes"]["sellers"] == {
        "from": [{"user_id": 10, "share": "100.00"}], "to": [{"user_id": 11, "share": "100.00"}]}


_AMOUNTS = st.sampled_from([P("1000"), P("1000.00"), P("1000.001"), P("999.99"), P("0")])
_CLOSED = st.sampled_from([None, NOW, NOW.astimezone(timezone(timedelta(hours=1))),
                           NOW + timedelta(seconds=1)])
_VARIED = st.fixed_dictionaries({
    "name": st.sampled_from(["Deal", "Other"]), "amount": _AMOUNTS,
    "probability": st.sampled_from([P("10"), P("10.00"), P("50")]),
    "status": st.sampled_from(list(Status)), "closed_at": _CLOSED,
    "follow_up_date": st.sampled_from([None, date(2026, 12, 1), date(2026, 12, 2)]),
    "owner_id": st.sampled_from([10, 11]), "loss_note": st.sampled_from([None, "", "x"])})


@given(_VARIED, _VARIED)
def test_the_recorded_changes_are_those_of_the_two_snapshots(old: dict[str, object],
                                                             new: dict[str, object]) -> None:
    """Working out only the differing fields records what comparing every field would:
    money equal but for digits past the cent is no change, the same instant at another
    offset is one (its text differs)."""
    before, after = opportunity(**old), opportunity(**new)
    assert recorded_changes(before, after) == changes(snapshot(before), snapshot(after))
