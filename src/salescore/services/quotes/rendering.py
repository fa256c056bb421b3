"""A quote's PDF, from its frozen copy: a draft's marked DRAFT, a signed one with the
signature block (signer, time, address and the content hash)."""

from datetime import datetime
from decimal import Decimal

from salescore.domain.quotes.quotes import QuoteStatus
from salescore.domain.quotes.records import Quote
from salescore.services.quotes.pdf import PdfLine, QuotePdf, Signature, render_quote_pdf

__all__ = ["Signature", "quote_pdf_bytes"]


def quote_pdf_bytes(quote: Quote, signature: Signature | None = None) -> bytes:
    content = quote.content
    if signature is None and quote.status is QuoteStatus.SIGNED and quote.responded_at:
        signature = Signature(name=quote.signed_by_name or "", email=quote.signed_by_email or "",
                              signed_at=quote.responded_at, ip=quote.signed_ip)
    return render_quote_pdf(QuotePdf(
        seller_name=content["seller_organization_name"], seller_address=None,
        customer_name=content["customer_name"], contact_name=None, number=quote.number,
        status=quote.status.value, currency=quote.currency,
        lines=tuple(PdfLine(name=line["name"], description=line["description"],
                            quantity=Decimal(line["quantity"]),
                            unit_price=Decimal(line["unit_price"]),
                            discount_percent=Decimal(line["discount_percent"]),
                            line_total=Decimal(line["line_total"]))
                    for line in content["lines"]),
        discount_percent=quote.discount_percent, lines_total=quote.lines_total,
        discount_amount=quote.discount_amount, total=quote.total,
        valid_until=quote.valid_until, created_on=(quote.sent_at or quote.created_at).date(),
        header_text=content.get("header_text"), footer_text=content.get("footer_text"),
        terms=content.get("terms"), note=quote.note, accent_color=content.get("accent_color"),
        content_sha256=quote.content_sha256, signature=signature,
        created_at=_created(quote)))


def _created(quote: Quote) -> datetime:
    return quote.sent_at or quote.created_at
