"""A quote as a PDF (A4, English), drawn with fpdf2 in DejaVu Sans, which is embedded (only
the glyphs used), so any Latin, Greek or Cyrillic text renders.

What it shows, top to bottom: the seller (and address) beside the quote's number, the
customer (and contact), the date and valid-until, the template's header text, the lines
(column titles start every page the table spans; a line is never split between pages
unless it is taller than one), the lines total, the discount and the total, the note, the
terms, and, on a signed copy, the signature block: signer, e-mail, time (UTC), IP and the
content's SHA-256 (a sent, unsigned copy shows the hash in small print). A draft (no
number yet, or status "draft") says DRAFT in place of the number and across every page.
The template's footer text is at the foot of every page, above the page number, when it
fits in six lines; a longer one closes the document. Figures read as `figures.py` says."""

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from salescore.services.quotes.pdf_layout import QuoteDocument


@dataclass(frozen=True, slots=True)
class PdfLine:
    name: str
    description: str | None
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    line_total: Decimal


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    email: str
    signed_at: datetime
    ip: str | None


@dataclass(frozen=True, slots=True)
class QuotePdf:
    seller_name: str
    seller_address: str | None
    customer_name: str
    contact_name: str | None
    number: str | None
    status: str
    currency: str
    lines: tuple[PdfLine, ...]
    discount_percent: Decimal
    lines_total: Decimal
    discount_amount: Decimal
    total: Decimal
    valid_until: date
    created_on: date
    header_text: str | None
    footer_text: str | None
    terms: str | None
    note: str | None
    accent_color: str | None
    content_sha256: str | None
    signature: Signature | None
    created_at: datetime | None = None

    @property
    def is_draft(self) -> bool:
        return self.number is None or self.status == "draft"


def render_quote_pdf(quote: QuotePdf) -> bytes:
    """The quote's PDF; the same quote with the same `created_at` gives the same bytes."""
    return QuoteDocument(_tidied(quote)).draw()


def _tidied(quote: QuotePdf) -> QuotePdf:
    """Line ends as "\\n" and tabs as spaces, which is what the PDF's text can show."""
    lines = tuple(replace(line, name=_tidy(line.name), description=_maybe(line.description))
                  for line in quote.lines)
    return replace(quote, lines=lines, seller_name=_tidy(quote.seller_name),
                   seller_address=_maybe(quote.seller_address),
                   customer_name=_tidy(quote.customer_name),
                   contact_name=_maybe(quote.contact_name),
                   header_text=_maybe(quote.header_text), footer_text=_maybe(quote.footer_text),
                   terms=_maybe(quote.terms), note=_maybe(quote.note))


def _tidy(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")


def _maybe(text: str | None) -> str | None:
    return None if text is None else _tidy(text)
