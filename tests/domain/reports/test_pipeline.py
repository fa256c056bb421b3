"""Pure rules of the pipeline, commission and campaign reports and of exchange rates."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salescore.domain.errors import InvalidInput
from salescore.domain.reports.exchange_rates import check_rate, check_rate_currency, rate_text
from salescore.domain.reports.pipeline import (
    CampaignFigures,
    Figures,
    GroupKey,
    cents,
    check_period,
    one_group_key,
    parse_group_by,
    period_bounds,
    period_label,
    rounded,
    win_rate,
)


def field_of(error: pytest.ExceptionInfo[InvalidInput]) -> str:
    return error.value.errors[0].field


def test_group_by_keeps_the_order_given():
    assert parse_group_by("stage, owner,month") == (GroupKey.STAGE, GroupKey.OWNER,
                                                    GroupKey.MONTH)
    assert parse_group_by(None) == parse_group_by(" ") == ()


@pytest.mark.parametrize("raw", ["colour", "owner,owner", "owner,", "Owner"])
def test_group_by_refuses_unknown_and_repeated_keys(raw: str):
    with pytest.raises(InvalidInput) as error:
        parse_group_by(raw)
    assert field_of(error) == "group_by"


def test_one_group_key_is_exactly_one_of_those_allowed():
    allowed = (GroupKey.CAMPAIGN, GroupKey.SOURCE)
    assert one_group_key("source", allowed) is GroupKey.SOURCE
    for raw in ("owner", "campaign,source", ""):
        with pytest.raises(InvalidInput):
            one_group_key(raw, allowed)


@pytest.mark.parametrize(("key", "day", "label"), [
    (GroupKey.MONTH, date(2027, 1, 1), "2027-01"), (GroupKey.MONTH, date(987, 12, 1), "0987-12"),
    (GroupKey.QUARTER, date(2027, 1, 1), "2027-Q1"), (GroupKey.QUARTER, date(2027, 4, 1),
                                                      "2027-Q2"),
    (GroupKey.QUARTER, date(2027, 12, 1), "2027-Q4"), (GroupKey.MONTH, None, None)])
def test_periods_read_as_months_and_quarters(key: GroupKey, day: date | None,
                                             label: str | None):
    assert period_label(key, day) == label


@pytest.mark.parametrize(("exact", "rounded_"), [
    ("0.125", "0.12"), ("0.135", "0.14"), ("0.25", "0.25"), ("2.675", "2.68"),
    ("1025.875", "1025.88"), ("0.0049999", "0.00"), ("-0.125", "-0.12")])
def test_money_rounds_half_even_to_the_cent(exact: str, rounded_: str):
    assert str(cents(Decimal(exact))) == rounded_


def test_no_sum_is_zero():
    assert str(cents(None)) == "0.00"


def test_the_exact_sum_is_rounded_not_the_sum_of_rounded_parts():
    parts = [Decimal("0.125")] * 2
    assert cents(sum(parts, Decimal(0))) == Decimal("0.25") != sum(map(cents, parts))


def test_figures_round_money_and_keep_counts():
    assert rounded(Figures, {"count": 2, "amount": Decimal("0.005"),
                             "weighted_amount": None}) == Figures(2, Decimal("0.00"),
                                                                  Decimal("0.00"))


def test_win_rate_is_won_over_won_and_lost_and_none_without_either():
    assert win_rate(2, 1) == Decimal("66.67")
    assert win_rate(1, 0) == Decimal("100.00")
    assert win_rate(0, 0) is None
    figures = CampaignFigures(5, 0, Decimal(0), Decimal(0), 1, Decimal(0), 3, 1)
    assert figures.win_rate == Decimal("25.00")  # the expired one does not count


def test_a_period_cannot_end_before_it_starts():
    check_period(date(2026, 4, 1), date(2026, 4, 1))
    check_period(None, date(2026, 4, 1))
    with pytest.raises(InvalidInput) as error:
        check_period(date(2026, 4, 2), date(2026, 4, 1))
    assert field_of(error) == "to"


def test_period_days_are_the_organizations_days():
    lower, upper = period_bounds(date(2026, 3, 29), date(2026, 3, 29), "Europe/Oslo")
    assert lower is not None and upper is not None
    assert lower.astimezone(UTC) == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert upper.astimezone(UTC) == datetime(2026, 3, 29, 22, tzinfo=UTC)  # 23 h: summer time
    assert period_bounds(None, None, "Europe/Oslo") == (None, None)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 30)),
       st.integers(min_value=0, max_value=400))
def test_a_period_starts_at_the_first_days_midnight_and_ends_at_the_next_days(
        start: date, days: int):
    zone = ZoneInfo("America/Sao_Paulo")
    end = date.fromordinal(min(start.toordinal() + days, date(2100, 12, 30).toordinal()))
    lower, upper = period_bounds(start, end, zone.key)
    assert lower is not None and upper is not None
    assert lower.astimezone(zone).date() == start
    assert upper.astimezone(zone).date() == date.fromordinal(end.toordinal() + 1)


def test_a_rate_is_for_another_currency_than_the_base():
    assert check_rate_currency("EUR", "NOK") == "EUR"
    for code in ("NOK", "XYZ", "eur"):
        with pytest.raises(InvalidInput) as error:
            check_rate_currency(code, "NOK")
        assert field_of(error) == "currency"


@pytest.mark.parametrize("rate", ["0", "-1", "1E-11", "10000000000", "NaN", "Infinity"])
def test_a_rate_is_positive_below_ten_billion_with_ten_decimals_at_most(rate: str):
    with pytest.raises(InvalidInput) as error:
        check_rate(Decimal(rate))
    assert field_of(error) == "rate"


@given(st.decimals(min_value=Decimal("0.0000000001"), max_value=Decimal("9999999999"),
                   places=10, allow_nan=False, allow_infinity=False))
def test_a_rate_reads_back_as_the_same_number(rate: Decimal):
    assert check_rate(rate) == rate
    text = rate_text(rate)
    assert Decimal(text) == rate
    assert "E" not in text and not (text.endswith("0") and "." in text)
