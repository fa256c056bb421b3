"""A quote's frozen copy, DOMAIN.md §6: its figures, its canonical JSON as documented, and a
hash a customer can recompute."""

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from salescore.domain.quotes.quotes import (
    FrozenLine,
    QuoteContent,
    canonical_json,
    content_document,
    content_of,
    content_sha256,
    freeze,
)

D = Decimal


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    description: str | None
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    unit_cost: Decimal | None = None


LINES = (Line("Licens", "Årslicens", D(3), D("200.00"), D(10), D("50.00")),
         Line('Frakt "express"', None, D("0.5"), D("24.70"), D(0)))


def sample(lines=LINES, discount=D(5)) -> QuoteContent:
    return freeze(currency="SEK", seller_organization_name="Säljbolaget AB",
                  customer_name="Kålrot & Söner AB", lines=lines, discount_percent=discount,
                  valid_until=date(2026, 3, 31), header_text="Offert",
                  terms="30 dagar netto\nGäller i Sverige", note="Tack!")


# Written by hand from the documented form: 3 x 200 x 90 % = 540.00; 0.5 x 24.70 = 12.35;
# 552.35 x 5 % = 27.6175 -> 27.62; 552.35 - 27.62 = 524.73.
CANONICAL = (
    '{"currency":"SEK","customer_name":"Kålrot & Söner AB","discount_amount":"27.62",'
    '"discount_percent":"5.00","footer_text":null,"header_text":"Offert",'
    '"lines":[{"description":"Årslicens","discount_percent":"10.00","line_total":"540.00",'
    '"name":"Licens","quantity":"3.000","unit_price":"200.00"},'
    '{"description":null,"discount_percent":"0.00","line_total":"12.35",'
    '"name":"Frakt \\"express\\"","quantity":"0.500","unit_price":"24.70"}],'
    '"lines_total":"552.35","note":"Tack!","seller_organization_name":"Säljbolaget AB",'
    '"terms":"30 dagar netto\\nGäller i Sverige","total":"524.73","valid_until":"2026-03-31"}'
).encode()
SHA256 = "74005ff3d5b6cbe8d6292fb69c2a995400cfa06c83ab0692850bedb529d769db"


def test_freezing_computes_the_lines_and_totals_by_the_one_rule():
    content = sample()
    assert [line.line_total for line in content.lines] == [D("540.00"), D("12.35")]
    assert (content.lines_total, content.discount_amount, content.total) == (
        D("552.35"), D("27.62"), D("524.73"))


def test_the_frozen_copy_keeps_the_line_order_and_leaves_costs_out():
    content = sample()
    assert [line.name for line in content.lines] == ["Licens", 'Frakt "express"']
    assert "unit_cost" not in json.loads(canonical_json(content))["lines"][0]
    assert "margin" not in json.loads(canonical_json(content))


def test_the_canonical_json_is_exactly_the_documented_form():
    assert canonical_json(sample()) == CANONICAL


def test_the_content_hash_is_the_sha256_of_the_canonical_json():
    assert content_sha256(sample()) == hashlib.sha256(CANONICAL).hexdigest() == SHA256


def test_a_customer_recomputes_the_hash_from_the_stored_json_object():
    stored = json.loads(json.dumps(content_document(sample())))  # as JSONB gives it back
    recomputed = hashlib.sha256(json.dumps(stored, sort_keys=True, separators=(",", ":"),
                                           ensure_ascii=False).encode("utf-8")).hexdigest()
    assert content_sha256(stored) == recomputed == SHA256


def test_only_the_documented_keys_count_in_a_stored_json_object():
    stored = json.loads(CANONICAL) | {"accent_color": "#336699"}
    stored["lines"][1]["quantity"] = "0.5"
    assert canonical_json(stored) == CANONICAL


def test_the_stored_json_object_reads_back_as_the_same_content():
    assert content_of(json.loads(CANONICAL)) == sample()


def test_another_line_order_changes_the_hash():
    assert content_sha256(sample(LINES[::-1])) != SHA256


def test_another_amount_changes_the_hash():
    cheaper = (replace(LINES[0], unit_price=D("199.99")), LINES[1])
    assert content_sha256(sample(cheaper)) != SHA256
    assert content_sha256(sample(discount=D("5.01"))) != SHA256


def test_another_text_changes_the_hash():
    assert content_sha256(replace(sample(), note="Tack")) != SHA256


def test_an_offer_without_lines_freezes_to_zeros_never_negative():
    document = content_document(sample(lines=(), discount=D(0)))
    assert (document["lines"], document["lines_total"], document["total"]) == ([], "0.00", "0.00")
    line = FrozenLine("x", None, D(1), D("0.00"), D(0), D("-0.00"))
    assert content_document(replace(sample(), lines=(line,)))["lines"][0]["line_total"] == "0.00"


names = st.text(max_size=20)
lines = st.builds(
    Line, names, st.none() | names,
    st.decimals(min_value=D("0.001"), max_value=D(10**6), places=3),
    st.decimals(min_value=D(0), max_value=D(10**9), places=2),
    st.decimals(min_value=D(0), max_value=D(100), places=2))


@given(st.lists(lines, max_size=5), st.decimals(min_value=D(0), max_value=D(100), places=2))
def test_freezing_the_same_offer_twice_gives_the_same_hash(offer, discount):
    assert content_sha256(sample(tuple(offer), discount)) == \
        content_sha256(sample(tuple(offer), discount))


@given(st.lists(lines, max_size=5), st.decimals(min_value=D(0), max_value=D(100), places=2))
def test_the_stored_form_round_trips_with_its_hash(offer, discount):
    content = sample(tuple(offer), discount)
    stored = json.loads(canonical_json(content))
    assert content_of(stored) == content
    assert content_sha256(stored) == content_sha256(content)
    assert content_document(content_of(stored)) == stored


@given(st.lists(lines, max_size=5), st.decimals(min_value=D(0), max_value=D(100), places=2))
def test_every_figure_is_written_with_its_fixed_places(offer, discount):
    document = content_document(sample(tuple(offer), discount))
    for key in ("discount_percent", "lines_total", "discount_amount", "total"):
        assert len(document[key].partition(".")[2]) == 2
        assert "E" not in document[key] and not document[key].startswith("-")
    for line in document["lines"]:
        assert len(line["quantity"].partition(".")[2]) == 3
        for key in ("unit_price", "discount_percent", "line_total"):
            assert len(line[key].partition(".")[2]) == 2
