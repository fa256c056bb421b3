"""The arithmetic of lines and offers, DOMAIN.md §6: the examples, half-even rounding once at
the end, and properties over any lines."""

from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salescore.domain.errors import InvalidInput
from salescore.domain.quotes.pricing import (
    ZERO,
    OfferTotals,
    PricedLine,
    checked_money,
    checked_percent,
    checked_quantity,
    line_cost,
    line_margin,
    line_total,
    offer_totals,
)

D = Decimal
quantities = st.decimals(min_value=D("0.001"), max_value=D("999999999999.999"), places=3)
small_quantities = st.decimals(min_value=D("0.001"), max_value=D("10000"), places=3)
money = st.decimals(min_value=D(0), max_value=D("9999999999999999.99"), places=2)
prices = st.decimals(min_value=D(0), max_value=D("100000"), places=2)
percents = st.decimals(min_value=D(0), max_value=D(100), places=2)
lines = st.builds(PricedLine, small_quantities, prices, percents, st.none() | prices)


def half_even_cents(exact: Fraction) -> Decimal:
    """Rounding to the cent, half to even, done with integers (independent of decimal)."""
    hundredths = exact * 100
    whole, rest = divmod(hundredths.numerator, hundredths.denominator)
    twice = 2 * rest
    if twice > hundredths.denominator or (twice == hundredths.denominator and whole % 2):
        whole += 1
    return D(f"{whole}E-2")  # exact: scaleb would round to the context's 28 digits


def field_of(error: pytest.ExceptionInfo[InvalidInput]) -> str:
    return error.value.errors[0].field


def test_a_line_total_is_quantity_times_price_less_its_discount():
    assert line_total(D(3), D("100.00"), D("10.00")) == D("270.00")


@pytest.mark.parametrize(("quantity", "expected"), [
    ("0.125", "0.12"), ("0.135", "0.14"), ("0.145", "0.14"), ("0.155", "0.16"),
    ("1.005", "1.00"), ("2.675", "2.68")])
def test_a_line_total_rounds_half_to_even_where_half_up_would_not(quantity, expected):
    assert str(line_total(D(quantity), D("1.00"), ZERO)) == expected


def test_a_line_is_rounded_once_at_the_end_not_after_the_discount():
    # 3 x 0.05 x 50 % = 0.075 -> 0.08; rounding the discounted unit price first gives 0.06
    assert line_total(D(3), D("0.05"), D(50)) == D("0.08")


def test_a_full_discount_makes_a_line_free():
    assert str(line_total(D("7.5"), D("19.99"), D(100))) == "0.00"


def test_the_largest_figures_are_multiplied_exactly():
    quantity, price, discount = D("999999999999.999"), D("9999999999999999.99"), D("33.33")
    exact = Fraction(quantity) * Fraction(price) * (100 - Fraction(discount)) / 100
    assert line_total(quantity, price, discount) == half_even_cents(exact)


def test_a_line_without_unit_cost_has_neither_cost_nor_margin():
    assert line_cost(D(2), None) is None
    assert line_margin(D("10.00"), None) is None


def test_a_line_cost_is_quantity_times_unit_cost_half_even():
    assert line_cost(D("0.5"), D("0.25")) == D("0.12")
    assert line_cost(D(4), D("2.50")) == D("10.00")


def test_a_line_margin_is_its_total_less_its_cost_and_may_be_negative():
    assert line_margin(D("10.00"), D("12.50")) == D("-2.50")


def test_a_priced_line_gives_its_total_cost_and_margin():
    line = PricedLine(D(2), D("50.00"), D(10), D("30.00"))
    assert (line.total, line.cost, line.margin) == (D("90.00"), D("60.00"), D("30.00"))
    assert PricedLine(D(2), D("50.00"), D(10), None).margin is None


def test_an_offer_sums_its_lines_then_takes_its_discount_half_even():
    offer = [PricedLine(D(1), D("100.00"), ZERO, D("40.00")),
             PricedLine(D(1), D("33.33"), ZERO, D("20.00"))]
    assert offer_totals(offer, D(10)) == OfferTotals(
        D("133.33"), D("13.33"), D("120.00"), D("60.00"))


def test_the_offer_discount_rounds_half_to_even():
    assert offer_totals([PricedLine(D(1), D("0.25"), ZERO, None)], D(50)).discount_amount \
        == D("0.12")
    assert offer_totals([PricedLine(D(1), D("0.35"), ZERO, None)], D(50)).discount_amount \
        == D("0.18")


def test_an_offer_without_lines_is_all_zero_with_a_zero_margin():
    assert offer_totals([], D(15)) == OfferTotals(ZERO, ZERO, ZERO, ZERO)
    assert str(offer_totals([], D(15)).total) == "0.00"


def test_one_line_without_unit_cost_leaves_the_offer_without_margin():
    offer = [PricedLine(D(1), D("10.00"), ZERO, D("5.00")),
             PricedLine(D(1), D("10.00"), ZERO, None)]
    assert offer_totals(offer, ZERO).margin is None


@given(quantities, money, percents)
def test_a_line_total_is_the_exact_product_quantized_half_even(quantity, price, discount):
    with localcontext(prec=100):
        exact = quantity * price * (100 - discount) / 100
        expected = exact.quantize(D("0.01"), rounding=ROUND_HALF_EVEN)
    assert line_total(quantity, price, discount) == expected
    assert line_total(quantity, price, discount) == half_even_cents(
        Fraction(quantity) * Fraction(price) * (100 - Fraction(discount)) / 100)


@given(quantities, st.none() | money)
def test_a_line_cost_is_the_exact_product_rounded_half_even(quantity, cost):
    expected = None if cost is None else half_even_cents(Fraction(quantity) * Fraction(cost))
    assert line_cost(quantity, cost) == expected


@given(st.lists(lines, max_size=8), percents)
def test_recomputing_an_offer_gives_the_same_figures(offer, discount):
    rebuilt = [PricedLine(D(str(line.quantity)), D(str(line.unit_price)),
                          D(str(line.discount_percent)),
                          None if line.unit_cost is None else D(str(line.unit_cost)))
               for line in offer]
    first = offer_totals(offer, discount)
    assert offer_totals(offer, discount) == first
    assert offer_totals(rebuilt, discount) == first
    assert offer_totals(rebuilt, D(str(discount))) == first


@given(st.lists(lines, max_size=8), percents)
def test_figures_recomputed_from_their_checked_forms_are_the_same(offer, discount):
    checked = [PricedLine(checked_quantity(line.quantity), checked_money(line.unit_price, "p"),
                          checked_percent(line.discount_percent, "d"),
                          None if line.unit_cost is None else checked_money(line.unit_cost, "c"))
               for line in offer]
    assert offer_totals(checked, checked_percent(discount, "d")) == offer_totals(offer, discount)


@given(st.lists(lines, max_size=8), percents)
def test_the_totals_add_up_to_the_cent(offer, discount):
    totals = offer_totals(offer, discount)
    assert totals.lines_total == sum((line.total for line in offer), ZERO)
    assert totals.total == totals.lines_total - totals.discount_amount
    assert ZERO <= totals.discount_amount <= totals.lines_total
    for figure in (totals.lines_total, totals.discount_amount, totals.total):
        assert figure.as_tuple().exponent == -2


@given(st.lists(lines, max_size=8), percents)
def test_the_margin_is_missing_exactly_when_a_line_lacks_a_unit_cost(offer, discount):
    totals = offer_totals(offer, discount)
    costs = [line.cost for line in offer]
    if any(line.unit_cost is None for line in offer):
        assert totals.margin is None
    else:
        assert totals.margin == totals.total - sum(c for c in costs if c is not None)


@pytest.mark.parametrize(("value", "expected"), [
    ("1", "1.000"), ("0.001", "0.001"), ("1.5000", "1.500"), ("999999999999.999",
                                                              "999999999999.999")])
def test_a_quantity_is_kept_to_three_places(value, expected):
    assert str(checked_quantity(D(value))) == expected


@pytest.mark.parametrize("value", [
    "0", "-0", "-1", "0.0001", "1000000000000", "NaN", "sNaN", "Infinity", "-Infinity"])
def test_a_quantity_must_be_positive_finite_below_10_to_12_with_three_decimals(value):
    with pytest.raises(InvalidInput) as error:
        checked_quantity(D(value), "lines.2.quantity")
    assert field_of(error) == "lines.2.quantity"


def test_a_quantity_error_names_quantity_by_default():
    with pytest.raises(InvalidInput) as error:
        checked_quantity(D(0))
    assert field_of(error) == "quantity"


@pytest.mark.parametrize(("value", "expected"), [
    ("0", "0.00"), ("-0", "0.00"), ("100", "100.00"), ("12.5", "12.50"), ("7.250", "7.25")])
def test_a_percent_is_kept_to_two_places(value, expected):
    assert str(checked_percent(D(value), "discount_percent")) == expected


@pytest.mark.parametrize("value", ["-0.01", "100.01", "1.234", "NaN", "Infinity"])
def test_a_percent_must_be_0_to_100_with_two_decimals(value):
    with pytest.raises(InvalidInput) as error:
        checked_percent(D(value), "discount_percent")
    assert field_of(error) == "discount_percent"


@pytest.mark.parametrize(("value", "expected"), [
    ("0", "0.00"), ("-0.00", "0.00"), ("19.9", "19.90"),
    ("9999999999999999.99", "9999999999999999.99")])
def test_money_is_kept_to_the_cent(value, expected):
    assert str(checked_money(D(value), "unit_price")) == expected


@pytest.mark.parametrize("value", [
    "-0.01", "1.001", "10000000000000000", "NaN", "sNaN", "Infinity"])
def test_money_must_be_non_negative_to_the_cent_and_fit_numeric_18_2(value):
    with pytest.raises(InvalidInput) as error:
        checked_money(D(value), "unit_price")
    assert field_of(error) == "unit_price"


@given(money)
def test_checked_money_keeps_every_valid_amount(value):
    assert checked_money(value, "amount") == value
    assert checked_money(checked_money(value, "amount"), "amount") == value
