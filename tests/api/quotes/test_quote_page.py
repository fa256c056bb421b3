"""The customer's quote page and the confirmation pages, rendered without a database and
read back with the standard library's HTML parser."""

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from salescore.api.v1.quotes.page import (
    QuotePageLine,
    QuotePageView,
    content_security_policy,
    render_confirmation,
    render_quote_page,
)
from salescore.services.quotes.figures import DEFAULT_ACCENT

NONCE = "n0nce-For-This-Response_1"
CSRF = "0123456789abcdef0123456789abcdef"
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
ANSWERED = ("signed", "change_requested", "rejected", "expired", "superseded")


def a_view(**changes: object) -> QuotePageView:
    view = QuotePageView(
        seller_name="Acme Nordic AS", customer_name="Ærlig Østbø Åsen AB",
        number="Q-2026-0042", status="sent", currency="EUR",
        lines=(QuotePageLine("Škoda service kit", "Two visits", Decimal("1.500"),
                             Decimal("12345.60"), Decimal("10.00"), Decimal("16666.56")),
               {"name": "Łódź delivery €", "description": None, "quantity": "2.000",
                "unit_price": "100.00", "discount_percent": "0.00", "line_total": "200.00"}),
        discount_percent=Decimal("5.00"), lines_total=Decimal("16866.56"),
        discount_amount=Decimal("843.33"), total=Decimal("16023.23"),
        valid_until=date(2026, 3, 31), header_text="Dear customer,\nhere is our offer.",
        footer_text="Acme Nordic AS · Storgata 1 · Oslo", terms="Payment within 30 days.",
        note="Delivery in week 14.", accent_color="#0B6E4F",
        pdf_url="/v1/public/quotes/tok123/pdf", action_base="/q/tok123",
        signed_by_name=None, responded_at=None, response_comment=None)
    return replace(view, **changes)  # type: ignore[arg-type]


def page(**changes: object) -> str:
    return render_quote_page(a_view(**changes), csrf_token=CSRF, nonce=NONCE)


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of the document."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def forms(self) -> dict[str, list[dict[str, str | None]]]:
        """Each form's action and the fields (input, textarea) inside it."""
        forms: dict[str, list[dict[str, str | None]]] = {}
        action = None
        for name, attrs in self.tags:
            if name == "form":
                action = attrs["action"] or ""
                forms[action] = []
            elif name in ("input", "textarea") and action is not None:
                forms[action].append({"tag": name, **attrs})
        return forms


def test_the_page_shows_the_quote_its_figures_and_the_pdf_link() -> None:
    html = page()
    words = " ".join(" ".join(Tags(html).text).split())
    for expected in ("Acme Nordic AS", "Ærlig Østbø Åsen AB", "Quote Q-2026-0042",
                     "Škoda service kit", "Two visits", "Łódź delivery €", "1.5", "12,345.60",
                     "10 %", "16,666.56", "Lines total 16,866.56 EUR", "Discount 5 %",
                     "-843.33 EUR", "Total 16,023.23 EUR", "Valid until 31 March 2026",
                     "Payment within 30 days.", "Delivery in week 14.", "Download the PDF"):
        assert expected in words, expected
    assert "2.000" not in words and "1.500" not in words
    links = [a["href"] for a in Tags(html).all("a")]
    assert links == ["/v1/public/quotes/tok123/pdf"]


def test_the_page_is_english_and_fits_a_phone() -> None:
    tags = Tags(page())
    assert tags.all("html") == [{"lang": "en"}]
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in tags.all(
        "meta")
    assert "@media (max-width: 36rem)" in page()


def test_user_text_is_escaped_everywhere() -> None:
    html = render_quote_page(a_view(
        seller_name=SCRIPT, customer_name=SCRIPT, header_text=SCRIPT, footer_text=SCRIPT,
        terms=SCRIPT, note=SCRIPT, lines=(QuotePageLine(SCRIPT, SCRIPT, Decimal(1), Decimal(1),
                                                        Decimal(0), Decimal(1)),)),
        csrf_token='"><script>alert(2)</script>', nonce=NONCE)
    assert "<script" not in html.lower()
    # <title>, the seller and customer above the heading, the line's name and description,
    # the header text, note, terms and footer
    assert html.count(ESCAPED) == 9
    csrf = {field["value"] for fields in Tags(html).forms().values() for field in fields
            if field.get("name") == "csrf"}
    assert csrf == {'"><script>alert(2)</script>'}


def test_an_answer_comment_is_escaped() -> None:
    html = page(status="rejected", response_comment=SCRIPT,
                responded_at=datetime(2026, 3, 2, 10, 11, tzinfo=UTC))
    assert "<script" not in html.lower()
    assert ESCAPED in html


def test_a_sent_quote_has_the_three_forms_posting_without_javascript() -> None:
    tags = Tags(page())
    assert [(f["method"], f["enctype"]) for f in tags.all("form")] == [
        ("post", "application/x-www-form-urlencoded")] * 3
    forms = tags.forms()
    assert list(forms) == ["/q/tok123/sign", "/q/tok123/request-change", "/q/tok123/reject"]
    for fields in forms.values():
        assert {"tag": "input", "type": "hidden", "name": "csrf", "value": CSRF} in fields
    required = {action: sorted(f["name"] or "" for f in fields if "required" in f)
                for action, fields in forms.items()}
    assert required == {"/q/tok123/sign": ["email", "name"],
                        "/q/tok123/request-change": ["comment"], "/q/tok123/reject": []}
    named = {action: sorted(f["name"] or "" for f in fields if f.get("type") != "hidden")
             for action, fields in forms.items()}
    assert named == {"/q/tok123/sign": ["email", "name"],
                     "/q/tok123/request-change": ["comment", "email", "name"],
                     "/q/tok123/reject": ["comment", "email", "name"]}


def test_every_field_has_its_label() -> None:
    tags = Tags(page())
    labelled = {label["for"] for label in tags.all("label")}
    fields = [f for fields in tags.forms().values() for f in fields if f.get("type") != "hidden"]
    assert len(fields) == 8
    assert {f["id"] for f in fields} == labelled


@pytest.mark.parametrize("status", ANSWERED)
def test_a_quote_no_longer_open_has_no_form(status: str) -> None:
    html = page(status=status, signed_by_name="Ada Lovelace",
                responded_at=datetime(2026, 3, 2, 10, 11, tzinfo=UTC))
    assert "<form" not in html
    assert "csrf" not in html
    assert "Download the PDF" in html


@pytest.mark.parametrize(("status", "statement"), [
    ("signed", "Signed by Ada Lovelace on 2 March 2026 at 10:11 UTC."),
    ("change_requested", "A change was requested on 2 March 2026 at 10:11 UTC."),
    ("rejected", "This quote was declined on 2 March 2026 at 10:11 UTC."),
    ("expired", "This quote has expired: it was valid until 31 March 2026."),
    ("superseded", "This quote has been replaced by a newer one from the seller."),
    ("draft", "This quote is not open for answers.")])
def test_the_page_says_what_became_of_the_quote(status: str, statement: str) -> None:
    html = page(status=status, signed_by_name="Ada Lovelace",
                responded_at=datetime.fromisoformat("2026-03-02T11:11:00+01:00"))
    assert statement in " ".join(Tags(html).text)


def test_a_sent_quote_states_no_outcome() -> None:
    assert 'role="status"' not in page()


def test_the_policy_allows_no_script_no_inline_and_no_other_origin() -> None:
    policy = content_security_policy(NONCE)
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives == {"default-src": "'none'", "style-src": f"'nonce-{NONCE}'",
                          "img-src": "'self' data:", "form-action": "'self'",
                          "frame-ancestors": "'none'", "base-uri": "'none'"}
    assert "unsafe" not in policy
    assert not re.search(r"https?:|\*", policy)


def test_a_nonce_that_could_change_the_policy_is_refused() -> None:
    for nonce in ("short", "abcdefghijklmnop'; script-src *", "abcdefghijklmnop q"):
        with pytest.raises(ValueError, match="nonce"):
            content_security_policy(nonce)
        with pytest.raises(ValueError, match="nonce"):
            render_quote_page(a_view(), csrf_token=CSRF, nonce=nonce)


@pytest.mark.parametrize("url", ["https://evil.test/x.pdf", "//evil.test/x", "x.pdf",
                                 "javascript:alert(1)"])
def test_links_and_form_actions_must_be_paths_on_this_site(url: str) -> None:
    with pytest.raises(ValueError, match="path"):
        page(pdf_url=url)
    with pytest.raises(ValueError, match="path"):
        page(action_base=url)


@pytest.mark.parametrize("html", [
    page(), page(status="signed", signed_by_name="Ada"),
    render_confirmation("Thank you", "The quote is signed.", nonce=NONCE)])
def test_the_page_loads_nothing_and_runs_nothing(html: str) -> None:
    tags = Tags(html)
    assert "<script" not in html.lower()
    assert "http://" not in html and "https://" not in html
    assert tags.all("style") == [{"nonce": NONCE}]
    assert html.count("<style") == 1
    assert all("style" not in attrs for _, attrs in tags.tags)
    assert not any(name in ("link", "img", "iframe", "object", "embed", "base")
                   for name, _ in tags.tags)
    assert "@import" not in html and "url(" not in html
    assert not [attrs for _, attrs in tags.tags if any(a.startswith("on") for a in attrs)]


def test_the_accent_colour_is_used_only_when_it_is_rrggbb() -> None:
    assert "--accent: #0B6E4F;" in page()
    for wrong in (None, "red", "#000000;} body { display: none", "#12345"):
        html = page(accent_color=wrong)
        assert f"--accent: {DEFAULT_ACCENT};" in html
        assert "display: none" not in html


def test_text_on_a_light_accent_is_dark() -> None:
    assert "--on-accent: #111111;" in page(accent_color="#FFEE00")
    assert "--on-accent: #FFFFFF;" in page(accent_color="#0B6E4F")


def test_a_confirmation_says_its_title_and_message_escaped() -> None:
    html = render_confirmation(SCRIPT, "This quote has already been answered.", nonce=NONCE,
                               accent_color="#AA0000")
    tags = Tags(html)
    assert "<script" not in html.lower()
    assert html.count(ESCAPED) == 2  # title and heading
    assert "This quote has already been answered." in tags.text
    assert "--accent: #AA0000;" in html
    assert tags.all("html") == [{"lang": "en"}]
    assert "<form" not in html
