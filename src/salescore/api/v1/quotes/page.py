"""The HTML a quote's customer sees: the quote page and the answer to each of its forms.

Made on the server with Jinja2 (autoescaped: every text of the quote is shown as text).
No script, nothing from another origin: one `<style>` block carrying the response's nonce,
which `content_security_policy` allows, and relative links only. The page is English and
reads on a phone (one column; on a narrow screen each line of the table is a small card).

While the quote is `sent` the page has three forms that work without JavaScript, each
posting `application/x-www-form-urlencoded` with a hidden `csrf` field:
`{action_base}/sign` (`name`, `email`, both required), `{action_base}/request-change`
(`comment` required, `name` and `email` optional) and `{action_base}/reject` (all
optional). In any other status the page has no form and says what became of the quote.
Figures read as `services/quotes/figures.py` says."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from salescore.services.quotes import figures

_NONCE = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_ENVIRONMENT = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "page_templates"),
    autoescape=select_autoescape(("html",), default_for_string=True, default=True),
    undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_ENVIRONMENT.filters.update(money=figures.money, number=figures.plain_number,
                            long_date=figures.long_date)


@dataclass(frozen=True, slots=True)
class QuotePageLine:
    name: str
    description: str | None
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    line_total: Decimal


@dataclass(frozen=True, slots=True)
class QuotePageView:
    """What the page shows. `lines` may be the frozen copy's line objects as stored (their
    figures as strings); `pdf_url` and `action_base` must be paths on this site."""

    seller_name: str
    customer_name: str
    number: str | None
    status: str
    currency: str
    lines: Sequence[QuotePageLine | Mapping[str, Any]]
    discount_percent: Decimal
    lines_total: Decimal
    discount_amount: Decimal
    total: Decimal
    valid_until: date
    header_text: str | None
    footer_text: str | None
    terms: str | None
    note: str | None
    accent_color: str | None
    pdf_url: str
    action_base: str
    signed_by_name: str | None
    responded_at: datetime | None
    response_comment: str | None


def content_security_policy(nonce: str) -> str:
    """The page's policy: nothing may load but the one style block with this nonce and
    images of this site; forms post only here; no framing, no `<base>`, no script."""
    _check_nonce(nonce)
    return ("default-src 'none'; "
            f"style-src 'nonce-{nonce}'; "
            "img-src 'self' data:; "
            "form-action 'self'; "
            "frame-ancestors 'none'; "
            "base-uri 'none'")


def render_quote_page(view: QuotePageView, *, csrf_token: str, nonce: str) -> str:
    """The quote, its totals and PDF link; its forms only while it is `sent`."""
    _check_nonce(nonce)
    for url in (view.pdf_url, view.action_base):
        _check_path(url)
    return _ENVIRONMENT.get_template("quote.html").render(
        quote=view, lines=[_line(line) for line in view.lines], csrf=csrf_token, nonce=nonce,
        open=view.status == "sent", outcome=_outcome(view), **_colors(view.accent_color))


def render_confirmation(title: str, message: str, *, nonce: str,
                        accent_color: str | None = None) -> str:
    """A short page answering a form: a confirmation, or what went wrong, in words."""
    _check_nonce(nonce)
    return _ENVIRONMENT.get_template("confirmation.html").render(
        title=title, message=message, nonce=nonce, **_colors(accent_color))


def _outcome(view: QuotePageView) -> str | None:
    """What became of a quote that can no longer be answered, in a sentence."""
    when = f" on {figures.long_moment(view.responded_at)}" if view.responded_at else ""
    match view.status:
        case "sent":
            return None
        case "signed":
            return f"Signed by {view.signed_by_name or 'the customer'}{when}."
        case "change_requested":
            return f"A change was requested{when}. The seller will send a new quote."
        case "rejected":
            return f"This quote was declined{when}."
        case "expired":
            return (f"This quote has expired: it was valid until "
                    f"{figures.long_date(view.valid_until)}. Ask the seller for a new one.")
        case "superseded":
            return "This quote has been replaced by a newer one from the seller."
        case _:
            return "This quote is not open for answers."


def _line(line: QuotePageLine | Mapping[str, Any]) -> QuotePageLine:
    if isinstance(line, QuotePageLine):
        return line
    return QuotePageLine(name=str(line["name"]), description=line.get("description"),
                         quantity=Decimal(line["quantity"]),
                         unit_price=Decimal(line["unit_price"]),
                         discount_percent=Decimal(line["discount_percent"]),
                         line_total=Decimal(line["line_total"]))


def _colors(accent_color: str | None) -> dict[str, str]:
    accent = figures.accent(accent_color)
    light = figures.is_light(accent)
    return {"accent": accent, "on_accent": "#111111" if light else "#FFFFFF",
            "accent_text": "#1A1A1A" if light else accent}


def _check_nonce(nonce: str) -> None:
    if not _NONCE.fullmatch(nonce):
        raise ValueError("a nonce is at least 16 base64 characters")


def _check_path(url: str) -> None:
    if not url.startswith("/") or url.startswith("//") or "\\" in url:
        raise ValueError(f"not a path on this site: {url!r}")
