"""Sales processes and stages: the pure rules (DOMAIN.md §4)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from salescore.domain.errors import Conflict, InvalidInput
from salescore.domain.sales.processes import (
    DefaultCandidate,
    DefaultFor,
    MovedOpportunity,
    SalesProcess,
    Stage,
    StageDraft,
    StageKind,
    check_kind_change,
    check_name,
    check_new_stages,
    check_order,
    check_probability,
    check_removal,
    default_process_id,
    insert_position,
    probability_at,
    quote_mark_holder,
    stage_removed_event,
)

OPEN, WON, LOST = StageKind.OPEN, StageKind.WON, StageKind.LOST
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _stage(stage_id: int, kind: StageKind = OPEN, *, in_use: int = 0, probability: str = "25",
           marks: bool = False) -> Stage:
    return Stage(id=stage_id, sales_process_id=1, name=f"S{stage_id}", position=stage_id,
                 probability=Decimal(probability), kind=kind, marks_quote_signed=marks,
                 in_use=in_use)


def _process(*stages: Stage) -> SalesProcess:
    return SalesProcess(id=1, organization_id=1, name="P", active=True, note=None,
                        default_for=DefaultFor(), stages=stages, created_at=NOW,
                        created_by=None, updated_at=NOW, updated_by=None, version=1)


def _fields(error: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [e.field for e in error.value.errors]


def _candidate(process_id: int, *levels: str) -> DefaultCandidate:
    return DefaultCandidate(process_id, "user" in levels, "region" in levels,
                            "department" in levels, "all" in levels)


# default process ------------------------------------------------------------------------


def test_the_process_marked_for_the_user_wins_over_every_other_level():
    assert default_process_id([_candidate(1, "all", "department", "region"),
                               _candidate(7, "user")]) == 7


def test_the_users_region_comes_before_department_and_all():
    assert default_process_id([_candidate(1, "all"), _candidate(2, "department"),
                               _candidate(9, "region")]) == 9


def test_the_users_department_comes_before_all():
    assert default_process_id([_candidate(1, "all"), _candidate(5, "department")]) == 5


def test_the_process_marked_for_all_comes_before_the_lowest_id():
    assert default_process_id([_candidate(1), _candidate(4, "all")]) == 4


def test_without_any_mark_the_lowest_active_id_wins():
    assert default_process_id([_candidate(8), _candidate(3), _candidate(5)]) == 3


@pytest.mark.parametrize("level", ["user", "region", "department", "all"])
def test_a_tie_at_one_level_goes_to_the_lowest_id(level: str):
    assert default_process_id([_candidate(1), _candidate(6, level), _candidate(4, level)]) == 4


def test_no_active_process_gives_none():
    assert default_process_id([]) is None


# probabilities and names ----------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "100", "33.33", "50.5"])
def test_a_probability_from_0_to_100_with_two_decimals_is_taken(value: str):
    assert check_probability(Decimal(value)) == Decimal(value)


@pytest.mark.parametrize("value", ["-0.01", "100.01", "33.333", "NaN", "Infinity"])
def test_a_probability_outside_0_to_100_or_with_three_decimals_is_refused(value: str):
    with pytest.raises(InvalidInput) as error:
        check_probability(Decimal(value), "stages.0.probability")
    assert _fields(error) == ["stages.0.probability"]


def test_a_blank_name_is_refused():
    with pytest.raises(InvalidInput) as error:
        check_name("   ")
    assert _fields(error) == ["name"]


def test_a_stage_takes_its_probability_but_won_is_100_and_lost_0():
    assert probability_at(_stage(1, probability="40")) == Decimal(40)
    assert probability_at(_stage(2, WON, probability="90")) == Decimal(100)
    assert probability_at(_stage(3, LOST, probability="10")) == Decimal(0)


# a new process ---------------------------------------------------------------------------


def _draft(kind: StageKind = OPEN, *, marks: bool = False, name: str = "S",
           probability: str = "10") -> StageDraft:
    return StageDraft(name=name, probability=Decimal(probability), kind=kind,
                      marks_quote_signed=marks)


def test_a_new_process_with_an_open_stage_and_one_quote_mark_is_taken():
    check_new_stages([_draft(), _draft(WON, marks=True), _draft(LOST)])


def test_a_new_process_without_an_open_stage_is_refused():
    with pytest.raises(InvalidInput) as error:
        check_new_stages([_draft(WON), _draft(LOST)])
    assert _fields(error) == ["stages"]


def test_a_new_process_with_two_quote_marks_is_refused_naming_the_second():
    with pytest.raises(InvalidInput) as error:
        check_new_stages([_draft(marks=True), _draft(), _draft(WON, marks=True)])
    assert _fields(error) == ["stages.2.marks_quote_signed"]


def test_a_new_stage_with_a_bad_probability_or_name_is_named_by_its_index():
    with pytest.raises(InvalidInput) as error:
        check_new_stages([_draft(), _draft(probability="101")])
    assert _fields(error) == ["stages.1.probability"]
    with pytest.raises(InvalidInput) as error:
        check_new_stages([_draft(name=" ")])
    assert _fields(error) == ["stages.0.name"]


# stages ----------------------------------------------------------------------------------


def test_a_new_stage_goes_last_unless_a_position_up_to_one_past_the_end_is_given():
    process = _process(_stage(1), _stage(2))
    assert insert_position(process, None) == 3
    assert insert_position(process, 1) == 1
    assert insert_position(process, 3) == 3
    for bad in (0, 4):
        with pytest.raises(InvalidInput) as error:
            insert_position(process, bad)
        assert _fields(error) == ["position"]


def test_the_quote_mark_moves_from_the_stage_that_has_it():
    holder = _stage(2, marks=True)
    process = _process(_stage(1), holder)
    assert quote_mark_holder(process, 1) == holder
    assert quote_mark_holder(process, None) == holder
    assert quote_mark_holder(process, 2) is None
    assert quote_mark_holder(_process(_stage(1)), 1) is None


def test_the_kind_of_a_stage_in_use_cannot_change():
    used = _stage(2, in_use=3)
    process = _process(_stage(1), used)
    with pytest.raises(Conflict):
        check_kind_change(process, used, WON)
    check_kind_change(process, used, OPEN)


def test_the_last_open_stage_cannot_become_won_or_lost():
    last = _stage(1)
    process = _process(last, _stage(2, WON))
    with pytest.raises(InvalidInput) as error:
        check_kind_change(process, last, LOST)
    assert _fields(error) == ["kind"]
    check_kind_change(_process(last, _stage(3)), last, WON)


def test_an_order_names_every_stage_exactly_once():
    process = _process(_stage(1), _stage(2), _stage(3))
    assert check_order(process, [3, 1, 2]) == (3, 1, 2)
    for bad in ([3, 1], [3, 1, 2, 2], [3, 1, 2, 4], [1, 1, 2, 3], []):
        with pytest.raises(InvalidInput) as error:
            check_order(process, bad)
        assert _fields(error) == ["stage_ids"]


def test_a_stage_in_use_goes_only_when_its_opportunities_have_somewhere_to_go():
    used, other = _stage(1, in_use=2), _stage(2)
    process = _process(used, other)
    with pytest.raises(Conflict):
        check_removal(process, used, None)
    assert check_removal(process, used, 2) == other


def test_an_unused_stage_simply_goes():
    unused = _stage(2, WON)
    assert check_removal(_process(_stage(1), unused), unused, None) is None


def test_the_last_open_stage_cannot_be_removed():
    last = _stage(1)
    with pytest.raises(InvalidInput) as error:
        check_removal(_process(last, _stage(2, WON)), last, None)
    assert _fields(error) == ["stage_id"]


@pytest.mark.parametrize("move_to", [1, 3, 99])
def test_opportunities_move_only_to_another_stage_of_the_same_process_and_kind(move_to: int):
    removed = _stage(1, in_use=1)
    process = _process(removed, _stage(2), _stage(3, WON))
    with pytest.raises(InvalidInput) as error:
        check_removal(process, removed, move_to)
    assert _fields(error) == ["move_to"]


def test_a_moved_opportunity_records_its_new_stage_and_probability():
    event = stage_removed_event(MovedOpportunity(5, Decimal("33.00"), "manual"),
                                _stage(1), _stage(2, probability="50"))
    assert (event.type, event.aggregate_type, event.aggregate_id) == (
        "opportunity.stage_changed", "opportunity", 5)
    assert event.data == {"reason": "stage_removed", "changes": {
        "stage_id": {"from": 1, "to": 2},
        "probability": {"from": "33.00", "to": "50.00"},
        "probability_source": {"from": "manual", "to": "stage"}}}


def test_a_moved_opportunity_with_an_unchanged_probability_records_only_its_stage():
    event = stage_removed_event(MovedOpportunity(5, Decimal(100), "stage"),
                                _stage(1, WON), _stage(2, WON))
    assert event.data["changes"] == {"stage_id": {"from": 1, "to": 2}}
