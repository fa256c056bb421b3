"""Ordered configuration lists and campaign periods, without a database."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salescore.domain.errors import InvalidInput
from salescore.domain.sales.campaigns import check_period
from salescore.domain.sales.lists import check_full_order, moves, placed


@pytest.mark.parametrize(("position", "order"), [
    (1, [9, 1, 2, 3]), (2, [1, 9, 2, 3]), (4, [1, 2, 3, 9]), (50, [1, 2, 3, 9]),
    (None, [1, 2, 3, 9])])
def test_a_new_item_goes_where_asked_and_last_past_the_end(position: int | None,
                                                           order: list[int]):
    assert placed([1, 2, 3], 9, position) == order


def test_moving_an_item_keeps_the_others_in_their_order():
    assert placed([1, 2, 3, 4], 4, 2) == [1, 4, 2, 3]
    assert placed([1, 2, 3, 4], 1, 3) == [2, 3, 1, 4]


@given(st.lists(st.integers(1, 10**6), unique=True, min_size=1),
       st.integers(0, 10), st.one_of(st.none(), st.integers(1, 20)))
def test_placing_is_a_permutation_with_the_item_at_its_rank(order: list[int], pick: int,
                                                            position: int | None):
    item = order[pick % len(order)]
    result = placed(order, item, position)
    assert sorted(result) == sorted(order)
    expected = len(order) if position is None else min(position, len(order))
    assert result.index(item) + 1 == expected


def test_moves_name_only_the_items_whose_position_changes():
    assert moves({1: 1, 2: 2, 3: 3}, [1, 3, 2]) == {3: (3, 2), 2: (2, 3)}
    assert moves({1: 1, 3: 3}, [1, 3]) == {3: (3, 2)}
    assert moves({1: 1}, [0, 1]) == {1: (1, 2)}


@pytest.mark.parametrize("requested", [[1, 2], [1, 2, 3, 3], [1, 2, 3, 4], []])
def test_a_full_order_names_every_item_exactly_once(requested: list[int]):
    with pytest.raises(InvalidInput) as refused:
        check_full_order({1, 2, 3}, requested)
    assert refused.value.errors[0].field == "ids"


def test_a_full_order_is_taken_as_given():
    assert check_full_order({1, 2, 3}, [3, 1, 2]) == [3, 1, 2]


def test_a_campaign_may_not_end_before_it_starts_but_may_be_open():
    check_period(date(2026, 1, 1), date(2026, 1, 1))
    check_period(None, date(2026, 1, 1))
    check_period(date(2026, 1, 1), None)
    with pytest.raises(InvalidInput) as refused:
        check_period(date(2026, 1, 2), date(2026, 1, 1))
    assert refused.value.errors[0].field == "ends_on"
