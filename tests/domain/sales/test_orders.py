"""The rules of orders linked back by an ERP: their terms, where they belong, conversion
and their events."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salescore.domain.errors import Conflict, InvalidInput
from salescore.domain.sales.orders import (
    Order,
    OrderedAmount,
    OrderTerms,
    Pricing,
    check_amount,
    check_converted,
    check_same_opportunity,
    check_summable,
    check_url,
    linked_event,
    order_terms,
    updated_event,
)

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
ORDER = Order(id=7, organization_id=1, opportunity_id=3, system="visma", order_number="SO-1",
              amount=Decimal("100.00"), currency="EUR", status="confirmed", url=None,
              ordered_at=NOW, created_at=NOW, created_by=None, updated_at=NOW,
              updated_by=None, version=1)
PRICING = Pricing(currency="NOK", base_currency="NOK", time_zone="Europe/Oslo")


def _field(error: pytest.ExceptionInfo[InvalidInput]) -> str:
    return error.value.errors[0].field


def _terms(*, amount: Decimal = Decimal("10.00"), currency: str | None = None,
           status: str | None = None, url: str | None = None,
           ordered_at: datetime | None = None) -> OrderTerms:
    return order_terms(amount=amount, currency=currency, status=status, url=url,
                       ordered_at=ordered_at, opportunity_currency="NOK")


def test_a_currency_left_out_is_the_opportunitys():
    assert _terms().currency == "NOK"
    assert _terms(currency="EUR").currency == "EUR"


@pytest.mark.parametrize(("fields", "field"), [
    ({"currency": "XYZ"}, "currency"), ({"currency": "eur"}, "currency"),
    ({"amount": Decimal("-0.01")}, "amount"), ({"amount": Decimal("0.001")}, "amount"),
    ({"amount": Decimal("NaN")}, "amount"), ({"amount": Decimal("1E16")}, "amount"),
    ({"url": "mailto:erp@x.test"}, "url")])
def test_bad_terms_name_their_field(fields: dict[str, Any], field: str):
    with pytest.raises(InvalidInput) as raised:
        _terms(**fields)
    assert _field(raised) == field


@given(st.decimals(min_value=0, max_value=Decimal("9999999999999999.99"), places=2,
                   allow_nan=False, allow_infinity=False))
def test_any_amount_in_cents_from_zero_up_is_taken_as_it_is(amount: Decimal):
    assert check_amount(amount) == amount


@given(st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False,
                   allow_infinity=False).filter(lambda d: d != d.quantize(Decimal("0.01"))))
def test_an_amount_with_more_than_two_decimals_is_refused_not_rounded(amount: Decimal):
    with pytest.raises(InvalidInput):
        check_amount(amount)


@pytest.mark.parametrize("url", ["https://erp.test/orders/1", "http://10.0.0.7:8080/o?id=1",
                                 "HTTPS://ERP.TEST/x#y"])
def test_an_http_url_is_kept_as_sent(url: str):
    assert check_url(url) == url


@pytest.mark.parametrize("url", ["ftp://erp.test/1", "erp.test/1", "https://", "https:///x",
                                 "https://erp.test/a b", "https://erp.test/\x07",
                                 "http://[::1/x", "javascript:alert(1)"])
def test_other_urls_are_refused(url: str):
    with pytest.raises(InvalidInput) as raised:
        check_url(url)
    assert _field(raised) == "url"


def test_an_order_stays_on_its_opportunity():
    check_same_opportunity(ORDER, 3)
    with pytest.raises(Conflict):
        check_same_opportunity(ORDER, 4)


def test_an_order_no_rate_converts_is_refused_naming_currency():
    check_converted(ORDER, OrderedAmount(Decimal("1100.00"), frozenset({8})), PRICING)
    with pytest.raises(InvalidInput) as raised:
        check_converted(ORDER, OrderedAmount(None, frozenset({7})), PRICING)
    assert _field(raised) == "currency"
    assert "EUR to NOK" in raised.value.errors[0].message


def test_a_sum_past_what_money_holds_is_refused_naming_amount():
    check_summable(OrderedAmount(None))
    check_summable(OrderedAmount(Decimal("9999999999999999.99")))
    with pytest.raises(InvalidInput) as raised:
        check_summable(OrderedAmount(Decimal("10000000000000000.00")))
    assert _field(raised) == "amount"


def test_the_same_terms_are_equal_and_a_changed_one_is_not():
    same = _terms(amount=Decimal("100.00"), currency="EUR", status="confirmed",
                  ordered_at=NOW)
    assert same == ORDER.terms
    assert _terms(amount=Decimal("100.00"), currency="EUR", ordered_at=NOW) != ORDER.terms


def test_a_link_records_the_order_and_the_opportunitys_sum():
    event = linked_event(ORDER, Decimal("1100"))
    assert (event.type, event.aggregate_type, event.aggregate_id) == ("order.linked",
                                                                      "order", 7)
    assert event.data == {"opportunity_id": 3, "system": "visma", "order_number": "SO-1",
                          "amount": "100.00", "currency": "EUR", "status": "confirmed",
                          "url": None, "ordered_at": "2026-03-10T09:00:00+00:00",
                          "opportunity_ordered_amount": "1100.00"}


def test_an_update_records_only_what_changed():
    after = replace(ORDER, amount=Decimal("120"), status=None, version=2)
    event = updated_event(ORDER, after, None)
    assert event.type == "order.updated"
    assert event.data == {"opportunity_id": 3, "system": "visma", "order_number": "SO-1",
                          "changes": {"amount": {"from": "100.00", "to": "120.00"},
                                      "status": {"from": "confirmed", "to": None}},
                          "opportunity_ordered_amount": None}
