"""The rules of product lines and the figures an opportunity takes from them (DOMAIN.md §6),
without a database."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salescore.domain.errors import InvalidInput
from salescore.domain.sales.lines import (
    Line,
    ProductTerms,
    change_line,
    check_currency_kept,
    checked_line_values,
    line_changes,
    needs_repricing,
    new_line,
    order_changes,
    priced,
    refuse_derived_writes,
    reorder,
    without,
)
from salescore.domain.sales.opportunities import (
    AmountSource,
    Opportunity,
    ProbabilitySource,
    Status,
    change_event,
)

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
P = Decimal
WIDGET = ProductTerms(id=5, name="Widget", description="A fine widget", unit_price=P("100.00"),
                      currency="NOK", unit_cost=P("60.00"), active=True)


def opportunity(**changes: Any) -> Opportunity:
    plain = Opportunity(
        id=1, organization_id=1, name="Deal", description=None, customer_id=1,
        contact_id=None, owner_id=1, sales_process_id=1, stage_id=1, last_open_stage_id=1,
        status=Status.OPEN, type_id=None, source_id=None, campaign_id=None,
        amount=P("500.00"), currency="NOK", probability=P("10.00"),
        probability_source=ProbabilitySource.STAGE, margin_amount=P("50.00"),
        expected_close_date=None, follow_up_date=None, previous_follow_up_date=None,
        loss_reason_id=None, loss_note=None, closed_at=None, project_ref=None,
        external_id=None, created_at=NOW, created_by=1, updated_at=NOW, updated_by=1,
        version=1)
    return replace(plain, **changes)


def line(line_id: int = 1, position: int = 1, **changes: Any) -> Line:
    plain = Line(id=line_id, organization_id=1, opportunity_id=1, product_id=None,
                 name=f"Line {line_id}", description=None, quantity=P("1.000"),
                 unit_price=P("100.00"), discount_percent=P("0.00"), unit_cost=None,
                 position=position, created_at=NOW, created_by=1, updated_at=NOW,
                 updated_by=1)
    return replace(plain, **changes)


def made(values: dict[str, Any], product: ProductTerms | None = WIDGET,
         on: Opportunity | None = None, lines: tuple[Line, ...] = ()) -> Line:
    return new_line(checked_line_values(values), product, opportunity=on or opportunity(),
                    lines=lines, now=NOW, user_id=1)


def test_a_product_line_takes_the_products_name_description_price_and_cost():
    new = made({"product_id": 5, "quantity": P("2")})
    assert (new.product_id, new.name, new.description) == (5, "Widget", "A fine widget")
    assert (new.unit_price, new.unit_cost, new.discount_percent) == (
        P("100.00"), P("60.00"), P("0.00"))
    assert (new.line_total, new.line_cost, new.line_margin) == (
        P("200.00"), P("120.00"), P("80.00"))


def test_what_a_product_line_gives_wins_over_the_products_terms():
    new = made({"product_id": 5, "name": "Special widget", "unit_price": P("90"),
                "unit_cost": None, "description": None})
    assert (new.name, new.unit_price, new.unit_cost, new.description) == (
        "Special widget", P("90"), None, None)
    assert new.line_margin is None


def test_a_new_line_defaults_to_one_and_goes_last():
    new = made({"product_id": 5}, lines=(line(1, 1), line(2, 2)))
    assert (new.quantity, new.position) == (P("1.000"), 3)


def test_a_product_in_another_currency_needs_a_unit_price_and_gives_no_cost():
    euro = replace(WIDGET, currency="EUR")
    with pytest.raises(InvalidInput) as refused:
        made({"product_id": 5}, euro)
    assert refused.value.errors[0].field == "unit_price"
    new = made({"product_id": 5, "unit_price": P("1150")}, euro)
    assert (new.unit_price, new.unit_cost) == (P("1150.00"), None)


def test_an_inactive_product_takes_no_new_line():
    with pytest.raises(InvalidInput) as refused:
        made({"product_id": 5}, replace(WIDGET, active=False))
    assert refused.value.errors[0].field == "product_id"


@pytest.mark.parametrize("missing", ["name", "unit_price"])
def test_a_free_text_line_needs_its_name_and_unit_price(missing: str):
    values = {"name": "Consulting", "unit_price": P("1200")}
    del values[missing]
    with pytest.raises(InvalidInput) as refused:
        made(values, None)
    assert refused.value.errors[0].field == missing


@pytest.mark.parametrize(("field", "value"), [
    ("quantity", P("0")), ("quantity", P("-1")), ("quantity", P("1.0005")),
    ("discount_percent", P("100.01")), ("discount_percent", P("-1")),
    ("discount_percent", P("5.555")), ("unit_price", P("-0.01")), ("unit_price", P("1.001")),
    ("unit_cost", P("-1")),
])
def test_figures_out_of_bounds_are_refused_naming_the_field(field: str, value: Decimal):
    with pytest.raises(InvalidInput) as refused:
        checked_line_values({field: value})
    assert refused.value.errors[0].field == field


def test_a_line_total_too_large_for_an_amount_is_refused():
    with pytest.raises(InvalidInput) as refused:
        made({"product_id": 5, "quantity": P("999999999999"),
              "unit_price": P("9999999999999999.99")})
    assert refused.value.errors[0].field == "quantity"


def test_an_opportunity_holds_at_most_500_lines():
    full = tuple(line(n, n) for n in range(1, 501))
    with pytest.raises(InvalidInput) as refused:
        made({"product_id": 5}, lines=full)
    assert refused.value.errors[0].field == "opportunity_id"


def test_a_change_keeps_the_product_and_an_unchanged_line_stays_as_it_is():
    old = line(product_id=5, unit_cost=P("60.00"))
    assert change_line(old, {"quantity": P("1.000")}, now=LATER, user_id=2) is old
    new = change_line(old, {"quantity": P("3")}, now=LATER, user_id=2)
    assert (new.product_id, new.unit_cost, new.updated_at, new.updated_by) == (
        5, P("60.00"), LATER, 2)


def test_reordering_needs_every_line_exactly_once():
    lines = (line(1, 1), line(2, 2), line(3, 3))
    assert [(x.id, x.position) for x in reorder(lines, [3, 1, 2])] == [(3, 1), (1, 2), (2, 3)]
    for wrong in ([3, 1], [3, 1, 2, 2], [3, 1, 4], [1, 1, 2]):
        with pytest.raises(InvalidInput) as refused:
            reorder(lines, wrong)
        assert refused.value.errors[0].field == "line_ids"


def test_removing_a_line_closes_the_gap():
    left = without((line(1, 1), line(2, 2), line(3, 3)), 2)
    assert [(x.id, x.position) for x in left] == [(1, 1), (3, 2)]


def test_lines_total_is_kept_but_a_manual_amount_is_not_touched():
    figured = priced(opportunity(), [line(1, unit_price=P("300.00"))])
    assert (figured.lines_total, figured.amount, figured.margin_amount) == (
        P("300.00"), P("500.00"), P("50.00"))


def test_amount_source_lines_takes_the_offer_total_and_the_margin_of_the_lines():
    on_lines = opportunity(amount_source=AmountSource.LINES, discount_percent=P("10.00"))
    lines = [line(1, quantity=P("3"), unit_price=P("33.33"), discount_percent=P("5"),
                  unit_cost=P("20")),
             line(2, 2, quantity=P("1.5"), unit_price=P("10.01"), unit_cost=P("7.00"))]
    figured = priced(on_lines, lines)
    # 94.9905 -> 94.99; 15.015 -> 15.02 (half-even); 110.01; offer discount 11.001 -> 11.00
    assert figured.lines_total == P("110.01")
    assert figured.amount == P("99.01")
    assert figured.margin_amount == P("99.01") - P("60.00") - P("10.50")
    without_cost = priced(on_lines, [*lines, line(3, 3)])
    assert without_cost.margin_amount is None


@given(st.lists(st.tuples(st.decimals(P("0.001"), P("1000"), places=3),
                          st.decimals(P("0"), P("10000"), places=2),
                          st.decimals(P("0"), P("100"), places=2)), max_size=8),
       st.decimals(P("0"), P("100"), places=2))
def test_pricing_again_gives_the_same_figures(figures: list[tuple[Decimal, Decimal, Decimal]],
                                              discount: Decimal):
    lines = [line(n, n, quantity=q, unit_price=u, discount_percent=d, unit_cost=P("1"))
             for n, (q, u, d) in enumerate(figures, start=1)]
    once = priced(opportunity(amount_source=AmountSource.LINES, discount_percent=discount),
                  lines)
    assert priced(once, lines) == once
    assert once.amount == once.lines_total - (once.lines_total * discount / 100).quantize(
        P("0.01"))


@pytest.mark.parametrize("field", ["amount", "margin_amount"])
def test_amount_and_margin_cannot_be_written_while_they_come_from_the_lines(field: str):
    refuse_derived_writes(opportunity(), {field})
    with pytest.raises(InvalidInput) as refused:
        refuse_derived_writes(opportunity(amount_source=AmountSource.LINES), {field, "name"})
    assert refused.value.errors[0].field == field


def test_switching_to_lines_or_a_new_offer_discount_on_lines_reprices():
    manual, on_lines = opportunity(), opportunity(amount_source=AmountSource.LINES)
    assert needs_repricing(manual, on_lines)
    assert needs_repricing(on_lines, replace(on_lines, discount_percent=P("5")))
    assert not needs_repricing(on_lines, replace(on_lines, name="Renamed"))
    assert not needs_repricing(manual, replace(manual, discount_percent=P("5")))
    assert not needs_repricing(on_lines, manual)


def test_the_currency_of_an_opportunity_with_lines_cannot_change():
    before = opportunity()
    check_currency_kept(before, replace(before, currency="EUR"), 0)
    check_currency_kept(before, before, 3)
    with pytest.raises(InvalidInput) as refused:
        check_currency_kept(before, replace(before, currency="EUR"), 1)
    assert refused.value.errors[0].field == "currency"


def test_a_line_change_is_one_updated_event_with_the_figures_and_the_line():
    before = opportunity(amount_source=AmountSource.LINES, lines_total=P("100.00"),
                         amount=P("100.00"), margin_amount=None)
    old = line(1)
    new = replace(old, quantity=P("2.000"))
    event = change_event(before, priced(before, [new]), line_changes(old, new))
    assert event is not None and event.type == "opportunity.updated"
    changes = event.data["changes"]
    assert changes["lines_total"] == {"from": "100.00", "to": "200.00"}
    assert changes["amount"] == {"from": "100.00", "to": "200.00"}
    assert changes["line"] == {"from": {"id": 1, "quantity": "1.000", "line_total": "100.00"},
                               "to": {"id": 1, "quantity": "2.000", "line_total": "200.00"}}


def test_a_line_write_that_changes_nothing_leaves_no_event():
    lines = [line(1, 1), line(2, 2)]
    assert line_changes(lines[0], lines[0]) == {}
    assert order_changes(lines, lines) == {}
    assert change_event(opportunity(), opportunity(), {}) is None
    assert order_changes(lines, reorder(lines, [2, 1])) == {
        "line_order": {"from": [1, 2], "to": [2, 1]}}
    assert line_changes(None, lines[0])["line"]["from"] is None
    assert line_changes(lines[0], None)["line"]["to"] is None
