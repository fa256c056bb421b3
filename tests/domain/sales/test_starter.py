"""The starter setup a new organization gets is valid by the rules its records obey."""

from decimal import Decimal

from salescore.domain.sales.lists import ListKind
from salescore.domain.sales.processes import StageKind, check_name, check_new_stages
from salescore.domain.sales.starter import STARTER


def test_the_starter_process_is_a_valid_new_process_for_everybody():
    check_name(STARTER.process_name)
    check_new_stages(STARTER.stages)
    assert STARTER.default_for.all


def test_the_starter_stages_climb_to_a_signed_quote_then_end_won_or_lost():
    open_stages = [s for s in STARTER.stages if s.kind is StageKind.OPEN]
    probabilities = [s.probability for s in open_stages]
    assert probabilities == sorted(probabilities)
    assert STARTER.stages[0].probability == Decimal(10)
    assert [s.name for s in STARTER.stages if s.marks_quote_signed] == ["Quote signed"]
    assert [(s.kind, s.probability) for s in STARTER.stages[-2:]] == [
        (StageKind.WON, Decimal(100)), (StageKind.LOST, Decimal(0))]


def test_the_starter_lists_have_names_unique_whatever_their_case():
    assert set(STARTER.lists) == {ListKind.LOSS_REASON, ListKind.SOURCE}
    for names in STARTER.lists.values():
        assert names
        assert len({name.lower() for name in names}) == len(names)
        for name in names:
            check_name(name)
