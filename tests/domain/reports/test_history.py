"""The pure rules of the history and outcome reports."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salescore.domain.errors import InvalidInput
from salescore.domain.reports.history import (
    INFLOWS,
    CloseWindow,
    Movement,
    MovementLine,
    Outcome,
    average,
    balance,
    sign_of,
    win_loss_figures,
)
from salescore.domain.reports.pipeline import percent, two_places


def test_a_share_of_nothing_is_null_not_zero():
    assert percent(0, 0) is None
    assert percent(0, 3) == Decimal("0.00")


def test_shares_and_averages_round_half_even_to_two_places():
    assert percent(1, 3) == Decimal("33.33")
    assert percent(2, 3) == Decimal("66.67")
    assert average(Decimal("1500.01"), 2) == Decimal("750.00")  # 750.005
    assert average(Decimal("1500.03"), 2) == Decimal("750.02")  # 750.015
    assert average(13, 2) == Decimal("6.50")
    assert average(Decimal(5), 0) is None
    assert two_places(2.125) == Decimal("2.12") and two_places(None) is None


def test_win_loss_figures_take_the_rate_from_won_and_lost_only():
    figures = win_loss_figures({"won": (1, Decimal("100.005"), 7),
                                "lost": (3, Decimal("30"), 0),
                                "expired": (5, Decimal("1"), 0)})
    assert figures.won == Outcome(1, Decimal("100.00"))
    assert figures.win_rate == Decimal("25.00")
    assert (figures.average_won_amount, figures.average_sales_cycle_days) == (
        Decimal("100.00"), Decimal("7.00"))
    nothing = win_loss_figures({"expired": (2, Decimal("10"), 0)})
    assert (nothing.win_rate, nothing.average_won_amount) == (None, None)


def test_a_close_window_cannot_end_before_it_starts():
    with pytest.raises(InvalidInput) as refused:
        CloseWindow(date(2026, 2, 1), date(2026, 1, 31))
    assert refused.value.errors[0].field == "close_to"
    assert CloseWindow(date(2026, 1, 31), date(2026, 1, 31)).last == date(2026, 1, 31)


def test_new_reopened_pulled_in_and_increases_add_to_the_pipeline_the_rest_take():
    assert {m for m in Movement if sign_of(m) > 0} == INFLOWS == {
        Movement.NEW, Movement.REOPENED, Movement.PULLED_IN, Movement.INCREASED}
    assert list(Movement)[:4] == [Movement.NEW, Movement.REOPENED, Movement.PULLED_IN,
                                  Movement.INCREASED]


cents = st.decimals(min_value=0, max_value=10**9, places=2)


@given(opening=cents, amounts=st.lists(cents, min_size=len(Movement), max_size=len(Movement)))
def test_the_closing_pipeline_is_opening_plus_inflows_minus_outflows(
        opening: Decimal, amounts: list[Decimal]):
    lines = [MovementLine(m, 1, a) for m, a in zip(Movement, amounts, strict=True)]
    ins = sum((a for m, a in zip(Movement, amounts, strict=True) if m in INFLOWS), Decimal(0))
    outs = sum(amounts, Decimal(0)) - ins
    assert balance(opening, lines) == opening + ins - outs


