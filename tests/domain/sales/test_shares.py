"""Seller shares, DOMAIN.md §3: every example, and properties over any sequence of adds."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salescore.domain.errors import Conflict, InvalidInput, NotFound
from salescore.domain.sales.shares import (
    WHOLE,
    Seller,
    add_seller,
    as_percent,
    change_share,
    first_seller,
    follow_owner,
    remove_seller,
    split_equally,
    to_hundredths,
    total,
)


def shares(sellers: tuple[Seller, ...]) -> list[str]:
    return [str(as_percent(s.share)) for s in sellers]


def test_a_new_opportunity_has_its_owner_as_sole_seller_with_100():
    assert first_seller(7) == (Seller(7, WHOLE),)


def test_a_sole_seller_follows_a_new_owner():
    assert follow_owner((Seller(1, WHOLE),), 2) == (Seller(2, WHOLE),)


def test_several_sellers_ignore_an_owner_change():
    sellers = (Seller(1, 6000), Seller(2, 4000))
    assert follow_owner(sellers, 3) == sellers


def test_adding_a_seller_splits_the_rest_equally_among_the_others():
    change = add_seller(first_seller(1), 2, 2500)
    assert shares(change.sellers) == ["75.00", "25.00"]
    assert change.warnings == ()


def test_leftover_hundredths_go_to_the_earliest_added():
    sellers = (Seller(1, 5000), Seller(2, 3000), Seller(3, 2000))
    change = add_seller(sellers, 4, 2)
    assert shares(change.sellers) == ["33.33", "33.33", "33.32", "0.02"]


def test_100_among_three_is_33_34_33_33_33_33():
    assert split_equally(WHOLE, 3) == [3334, 3333, 3333]


def test_adding_to_two_sellers_rounds_down_and_gives_the_leftover_to_the_first():
    change = add_seller((Seller(1, 5000), Seller(2, 5000)), 3, 3333)
    assert shares(change.sellers) == ["33.34", "33.33", "33.33"]
    assert total(change.sellers) == WHOLE


def test_a_new_share_of_100_is_refused_when_others_are_there():
    with pytest.raises(InvalidInput):
        add_seller(first_seller(1), 2, WHOLE)


def test_a_user_cannot_be_a_seller_twice():
    with pytest.raises(Conflict):
        add_seller(first_seller(1), 1, 1000)


def test_a_share_leaving_nothing_for_the_others_is_refused():
    with pytest.raises(InvalidInput):
        add_seller((Seller(1, 5000), Seller(2, 5000)), 3, 9999)


def test_removing_down_to_one_seller_gives_that_one_100():
    change = remove_seller((Seller(1, 6000), Seller(2, 4000)), 1)
    assert change.sellers == (Seller(2, WHOLE),)
    assert change.warnings == ()


def test_removing_with_several_left_keeps_shares_and_warns_of_the_total():
    change = remove_seller((Seller(1, 5000), Seller(2, 3000), Seller(3, 2000)), 1)
    assert change.sellers == (Seller(2, 3000), Seller(3, 2000))
    assert [w.total for w in change.warnings] == [5000]
    assert "50.00" in change.warnings[0].message


def test_the_last_seller_cannot_be_removed():
    with pytest.raises(Conflict):
        remove_seller(first_seller(1), 1)


def test_removing_someone_who_is_not_a_seller_is_not_found():
    with pytest.raises(NotFound):
        remove_seller((Seller(1, 5000), Seller(2, 5000)), 9)


def test_changing_a_share_recomputes_nothing_and_warns_of_the_total():
    change = change_share((Seller(1, 7500), Seller(2, 2500)), 2, 3000)
    assert change.sellers == (Seller(1, 7500), Seller(2, 3000))
    assert change.warnings[0].total == 10500
    assert "above" in change.warnings[0].message


def test_changing_a_share_to_make_100_gives_no_warning():
    change = change_share((Seller(1, 7000), Seller(2, 2500)), 2, 3000)
    assert change.warnings == ()


@pytest.mark.parametrize("raw", ["0", "-1", "100.01", "0.001", "12.345"])
def test_a_share_must_be_above_0_at_most_100_with_two_decimals(raw: str):
    with pytest.raises(InvalidInput):
        to_hundredths(Decimal(raw))


def test_a_share_converts_exactly():
    assert to_hundredths(Decimal("33.33")) == 3333
    assert to_hundredths(Decimal("100")) == WHOLE
    assert as_percent(3334) == Decimal("33.34")


adds = st.lists(st.integers(min_value=1, max_value=WHOLE - 1), min_size=1, max_size=12)


@given(adds)
def test_after_every_add_the_total_is_exactly_100_and_no_share_is_zero(new_shares: list[int]):
    sellers = first_seller(0)
    for user_id, share in enumerate(new_shares, start=1):
        try:
            sellers = add_seller(sellers, user_id, share).sellers
        except InvalidInput:
            assert WHOLE - share < len(sellers)
            continue
        assert total(sellers) == WHOLE
        assert all(s.share > 0 for s in sellers)
        assert sellers[-1] == Seller(user_id, share)


@given(st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=WHOLE))
def test_an_equal_split_differs_by_at_most_a_hundredth_larger_parts_first(parts: int,
                                                                          amount: int):
    split = split_equally(amount, parts)
    assert sum(split) == amount
    assert max(split) - min(split) <= 1
    assert split == sorted(split, reverse=True)


@given(adds, st.data())
def test_removing_down_to_one_always_leaves_100(new_shares: list[int], data: st.DataObject):
    sellers = first_seller(0)
    for user_id, share in enumerate(new_shares, start=1):
        if WHOLE - share >= len(sellers):
            sellers = add_seller(sellers, user_id, share).sellers
    while len(sellers) > 1:
        victim = data.draw(st.sampled_from([s.user_id for s in sellers]))
        change = remove_seller(sellers, victim)
        sellers = change.sellers
        if len(sellers) == 1:
            assert sellers[0].share == WHOLE
        assert bool(change.warnings) == (total(sellers) != WHOLE)
