"""A quote's frozen copy: what the signer agrees to, and its canonical JSON and hash.

The canonical JSON of a quote, of which `content_sha256` is the SHA-256 (lowercase hex):
one JSON object with exactly these keys, written with keys sorted (also inside each line),
no whitespace at all (separators "," and ":"), every character as itself but for the
escapes Python's `json.dumps(..., ensure_ascii=False)` writes (`\\"`, `\\\\`, `\\b`, `\\f`,
`\\n`, `\\r`, `\\t`, and `\\u00xx`, lowercase hex, for the other characters below U+0020),
encoded as UTF-8:

    currency                  ISO 4217 code, e.g. "EUR"
    seller_organization_name  string
    customer_name             string
    lines                     array in the quote's order, each object:
        name                  string
        description           string or null
        quantity              string, exactly three decimals, e.g. "2.500"
        unit_price            string, exactly two decimals, e.g. "1200.00"
        discount_percent      string, exactly two decimals, e.g. "10.00"
        line_total            string, exactly two decimals
    discount_percent          string, two decimals (the discount on the whole offer)
    lines_total, discount_amount, total    strings, two decimals
    valid_until               string, ISO date "YYYY-MM-DD"
    header_text, footer_text, terms, note  string or null

Numbers are plain decimals: no exponent, no thousands separator, "-" never on a zero.
Absent texts are null, never left out. In Python:
`hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":"),
ensure_ascii=False).encode("utf-8")).hexdigest()`.
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Any, Protocol

from salescore.domain.quotes.pricing import (
    CENT,
    THOUSANDTH,
    WIDE,
    PricedLine,
    line_total,
    offer_totals,
)


class OfferLine(Protocol):
    """What a quote takes from a line of the offer."""

    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str | None: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def unit_price(self) -> Decimal: ...
    @property
    def discount_percent(self) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class FrozenLine:
    name: str
    description: str | None
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    line_total: Decimal


@dataclass(frozen=True, slots=True)
class QuoteContent:
    """What a signer agrees to: who sells to whom, the lines, discount and totals, how long
    the offer stands, and the template's texts. Costs and margins stay out of it."""

    currency: str
    seller_organization_name: str
    customer_name: str
    lines: tuple[FrozenLine, ...]
    discount_percent: Decimal
    lines_total: Decimal
    discount_amount: Decimal
    total: Decimal
    valid_until: date
    header_text: str | None = None
    footer_text: str | None = None
    terms: str | None = None
    note: str | None = None


def freeze(*, currency: str, seller_organization_name: str, customer_name: str,
           lines: Sequence[OfferLine], discount_percent: Decimal, valid_until: date,
           header_text: str | None = None, footer_text: str | None = None,
           terms: str | None = None, note: str | None = None) -> QuoteContent:
    """The frozen copy of an offer, its figures computed by the one rule (pricing). The
    lines' and the discount's figures are taken as checked (pricing.checked_*)."""
    frozen = tuple(
        FrozenLine(line.name, line.description, line.quantity, line.unit_price,
                   line.discount_percent,
                   line_total(line.quantity, line.unit_price, line.discount_percent))
        for line in lines)
    totals = offer_totals([PricedLine(line.quantity, line.unit_price, line.discount_percent,
                                      None) for line in lines], discount_percent)
    return QuoteContent(currency, seller_organization_name, customer_name, frozen,
                        discount_percent, totals.lines_total,
                        totals.discount_amount, totals.total, valid_until, header_text,
                        footer_text, terms, note)


def _fixed(value: Decimal, places: Decimal) -> str:
    with localcontext(prec=WIDE):
        fixed = value.quantize(places)
    return format(fixed.copy_abs() if fixed.is_zero() else fixed, "f")


def _line_document(line: FrozenLine) -> dict[str, Any]:
    return {"name": line.name, "description": line.description,
            "quantity": _fixed(line.quantity, THOUSANDTH),
            "unit_price": _fixed(line.unit_price, CENT),
            "discount_percent": _fixed(line.discount_percent, CENT),
            "line_total": _fixed(line.line_total, CENT)}


def content_document(content: QuoteContent) -> dict[str, Any]:
    """The frozen copy as the JSON object described above (what is stored and hashed)."""
    return {"currency": content.currency,
            "seller_organization_name": content.seller_organization_name,
            "customer_name": content.customer_name,
            "lines": [_line_document(line) for line in content.lines],
            "discount_percent": _fixed(content.discount_percent, CENT),
            "lines_total": _fixed(content.lines_total, CENT),
            "discount_amount": _fixed(content.discount_amount, CENT),
            "total": _fixed(content.total, CENT),
            "valid_until": content.valid_until.isoformat(),
            "header_text": content.header_text, "footer_text": content.footer_text,
            "terms": content.terms, "note": content.note}


def content_of(document: Mapping[str, Any]) -> QuoteContent:
    """The frozen copy back from its JSON object."""
    return QuoteContent(
        document["currency"], document["seller_organization_name"],
        document["customer_name"],
        tuple(FrozenLine(line["name"], line["description"], Decimal(line["quantity"]),
                         Decimal(line["unit_price"]), Decimal(line["discount_percent"]),
                         Decimal(line["line_total"])) for line in document["lines"]),
        Decimal(document["discount_percent"]), Decimal(document["lines_total"]),
        Decimal(document["discount_amount"]), Decimal(document["total"]),
        date.fromisoformat(document["valid_until"]), document["header_text"],
        document["footer_text"], document["terms"], document["note"])


def canonical_json(content: QuoteContent | Mapping[str, Any]) -> bytes:
    """The canonical JSON of the frozen copy (module docstring). A mapping is read as the
    stored JSON object (`content_of`): only the documented keys count, in their fixed form."""
    frozen = content if isinstance(content, QuoteContent) else content_of(content)
    document = content_document(frozen)
    return json.dumps(document, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def content_sha256(content: QuoteContent | Mapping[str, Any]) -> str:
    """The SHA-256 (lowercase hex) of the canonical JSON: what a customer recomputes to
    check that what they signed is what was sent."""
    return hashlib.sha256(canonical_json(content)).hexdigest()
