"""The quote's PDF, rendered without a database. Its text is read back twice: by a small
reader of fpdf2's output below (the font's ToUnicode map applied to the pages' text, as a
viewer's search and copy do), and by poppler's `pdftotext` where it is installed."""

import re
import shutil
import subprocess
import zlib
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from salescore.services.quotes import figures
from salescore.services.quotes.pdf import PdfLine, QuotePdf, Signature, render_quote_pdf
from salescore.services.quotes.pdf_layout import FONT_FILES, FONTS, font_files

NAMES = ("Ærlig Østbø Åsen", "Škoda", "Łódź €")
HASH = "3f" * 32
GREEK_CYRILLIC = {"customer_name": "Ελληνικά Ξύλα", "contact_name": "Жук Иван",
                  "note": "Ελληνικά και Жук, ǅ"}


def a_quote(count: int = 20, **changes: object) -> QuotePdf:
    quote = QuotePdf(
        seller_name="Acme Nordic AS", seller_address="Storgata 1\n0155 Oslo",
        customer_name="Ærlig Østbø Åsen AB", contact_name="Łucja Škodová",
        number="Q-2026-0042", status="sent", currency="EUR",
        lines=tuple(PdfLine(name=f"{NAMES[i % 3]} item {i + 1}",
                            description="On site, travel included" if i % 2 else None,
                            quantity=(Decimal("2.000"), Decimal("1.500"), Decimal("0.125"))[i % 3],
                            unit_price=Decimal("12345.60"), discount_percent=Decimal("10.00"),
                            line_total=Decimal("100.00")) for i in range(count)),
        discount_percent=Decimal("5.00"), lines_total=Decimal(count * 100),
        discount_amount=Decimal(count * 5), total=Decimal(count * 95),
        valid_until=date(2026, 3, 31), created_on=date(2026, 3, 1),
        header_text="Here is our offer.", footer_text="Acme Nordic AS · Org. no. 987 654 321",
        terms="Payment within 30 days.", note="Delivery in week 14.", accent_color="#0B6E4F",
        content_sha256=HASH, signature=None, created_at=datetime(2026, 3, 1, 9, tzinfo=UTC))
    return replace(quote, **changes)  # type: ignore[arg-type]


def test_a_twenty_line_quote_is_a_pdf_with_dejavu_sans_embedded() -> None:
    pdf = render_quote_pdf(a_quote())
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert re.search(rb"/BaseFont /[A-Z]{6}\+DejaVuSans", pdf)
    assert re.search(rb"/BaseFont /[A-Z]{6}\+DejaVuSansBold", pdf)
    assert pdf.count(b"/FontFile2") == 2


def test_the_unicode_names_figures_and_texts_are_in_the_text() -> None:
    text = pdf_text(render_quote_pdf(a_quote()))
    for expected in ("Acme Nordic AS", "Ærlig Østbø Åsen AB", "Attn. Łucja Škodová",
                     "Ærlig Østbø Åsen item 1", "Škoda item 2", "Łódź € item 3",
                     "Q-2026-0042", "1 March 2026", "31 March 2026", "Here is our offer.",
                     "12,345.60", "2,000.00 EUR", "-100.00 EUR", "1,900.00 EUR",
                     "Delivery in week 14.", "Payment within 30 days.",
                     "Acme Nordic AS · Org. no. 987 654 321", "page 1 of 2", "page 2 of 2"):
        assert expected in text, expected
    quantities = re.findall(r"^(\d[\d.,]*)$", text, re.M)
    assert {"2", "1.5", "0.125"} <= set(quantities)
    assert "2.000" not in quantities and "1.500" not in quantities
    assert "DRAFT" not in text


@pytest.mark.skipif(shutil.which("pdftotext") is None,
                    reason="pdftotext is missing: apt-get install poppler-utils")
@pytest.mark.parametrize(("changes", "texts"), [
    ({}, ("Ærlig Østbø Åsen AB", "Škoda item 2", "Łódź € item 3", "1,900.00 EUR")),
    (GREEK_CYRILLIC, ("Ελληνικά Ξύλα", "Attn. Жук Иван", "Ελληνικά και Жук, ǅ", "Škoda item 2",
                      "1,900.00 EUR"))])
def test_pdftotext_reads_the_unicode_text(tmp_path: Path, changes: dict[str, str],
                                          texts: tuple[str, ...]) -> None:
    path = tmp_path / "quote.pdf"
    path.write_bytes(render_quote_pdf(a_quote(**changes)))
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    for expected in texts:
        assert expected in text, expected


def test_greek_cyrillic_and_any_other_text_dejavu_sans_has_renders() -> None:
    text = pdf_text(render_quote_pdf(a_quote(**GREEK_CYRILLIC)))
    for expected in ("Ελληνικά Ξύλα", "Attn. Жук Иван", "Ελληνικά και Жук, ǅ",
                     "Ærlig Østbø Åsen item 1", "Łódź € item 3"):
        assert expected in text, expected
    text = pdf_text(render_quote_pdf(a_quote(3, note="Hebrew שלום, Armenian Բարեւ, → ✓")))
    assert "Hebrew שלום, Armenian Բարեւ, → ✓" in text


@pytest.mark.parametrize(("text", "regular", "bold"), [
    ("Ærlig Østbø Åsen, Łódź, Škoda, Țară \u2013 \u201c€ 5\u201d № 1 ™ ·\n", "DejaVuSans-Latin.ttf",
     "DejaVuSans-Bold-Latin.ttf"),
    ("Ελληνικά", "DejaVuSans-LGC.ttf", "DejaVuSans-Bold-LGC.ttf"),
    ("Жук ǅ", "DejaVuSans-LGC.ttf", "DejaVuSans-Bold-LGC.ttf"),
    ("Å (A\u030a)", "DejaVuSans-LGC.ttf", "DejaVuSans-Bold-LGC.ttf"),
    ("Ελληνικά שלום", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("→", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf")])
def test_a_quote_is_drawn_from_the_smallest_font_files_with_its_characters(
        text: str, regular: str, bold: str) -> None:
    assert font_files(sorted({ord(c) for c in text})) == (FONTS / regular, FONTS / bold)


@pytest.mark.parametrize(("regular", "bold", "ranges"), FONT_FILES[:-1])
def test_the_smaller_font_files_are_dejavu_sans_with_the_glyphs_of_their_characters(
        regular: str, bold: str, ranges: tuple[tuple[int, int], ...]) -> None:
    """The same glyphs (outlines and widths) and metrics as the whole files, for exactly
    the code points the whole files have among those the smaller ones are said to have."""
    codes = {code for first, last in ranges for code in range(first, last + 1)}
    for small_file, whole_file in ((regular, "DejaVuSans.ttf"), (bold, "DejaVuSans-Bold.ttf")):
        small, whole = TTFont(FONTS / small_file), TTFont(FONTS / whole_file)
        small_cmap, whole_cmap = small.getBestCmap(), whole.getBestCmap()
        assert set(small_cmap) == codes & set(whole_cmap)
        small_glyphs, whole_glyphs = small["glyf"], whole["glyf"]
        for code, name in small_cmap.items():
            whole_name = whole_cmap[code]
            assert small["hmtx"][name] == whole["hmtx"][whole_name], hex(code)
            assert (small_glyphs[name].getCoordinates(small_glyphs)
                    == whole_glyphs[whole_name].getCoordinates(whole_glyphs)), hex(code)
        assert small["name"].getBestFullName() == whole["name"].getBestFullName()
        for table, fields in (("head", ("unitsPerEm", "xMin", "yMin", "xMax", "yMax")),
                              ("hhea", ("ascent", "descent")),
                              ("OS/2", ("usWeightClass", "yStrikeoutPosition", "yStrikeoutSize")),
                              ("post", ("italicAngle", "underlinePosition", "underlineThickness"))):
            for field in fields:
                assert getattr(small[table], field) == getattr(whole[table], field), field


def test_a_draft_says_draft_in_place_of_a_number() -> None:
    for draft in (a_quote(5, number=None, status="draft", content_sha256=None),
                  a_quote(5, status="draft")):
        text = pdf_text(render_quote_pdf(draft))
        assert "DRAFT" in text.splitlines()
        assert "Quote DRAFT · page 1 of 1" in text
        assert "Q-2026-0042" not in text
        assert "Content SHA-256" not in text


def test_a_draft_is_marked_across_every_page() -> None:
    pages = pdf_pages(render_quote_pdf(a_quote(100, number=None, status="draft")))
    assert len(pages) > 1
    assert all("DRAFT" in page.splitlines() for page in pages)


def test_a_signed_copy_has_the_signature_block() -> None:
    signature = Signature(name="Ærlig Østbø", email="aerlig@example.test",
                          signed_at=datetime(2026, 3, 2, 11, 11, 12, tzinfo=UTC), ip="203.0.113.7")
    text = pdf_text(render_quote_pdf(a_quote(3, status="signed", signature=signature)))
    assert "Signed electronically" in text
    assert "Ærlig Østbø <aerlig@example.test>" in text
    assert "2026-03-02T11:11:12Z (UTC)" in text
    assert "203.0.113.7" in text
    assert HASH in text


def test_the_signature_time_is_shown_in_utc() -> None:
    signed_at = datetime.fromisoformat("2026-03-02T12:11:12+01:00")
    signature = Signature(name="Ada", email="ada@example.test", signed_at=signed_at, ip=None)
    text = pdf_text(render_quote_pdf(a_quote(1, signature=signature)))
    assert "2026-03-02T11:11:12Z (UTC)" in text
    assert "not recorded" in text


def test_an_unsigned_sent_copy_has_no_signature_block_but_its_hash() -> None:
    text = pdf_text(render_quote_pdf(a_quote(3)))
    assert "Signed electronically" not in text
    assert f"Content SHA-256: {HASH}" in text


def test_a_hundred_lines_span_pages_each_line_once_with_the_titles_on_every_page() -> None:
    pages = pdf_pages(render_quote_pdf(a_quote(100)))
    assert len(pages) >= 3
    names = [line for page in pages for line in page.splitlines() if " item " in line]
    assert names == [f"{NAMES[i % 3]} item {i + 1}" for i in range(100)]
    for number, page in enumerate(pages, start=1):
        assert "Line total" in page.splitlines()
        assert f"page {number} of {len(pages)}" in page
        assert "Acme Nordic AS · Org. no. 987 654 321" in page
    assert "1,900.00 EUR" not in pages[0]
    assert "9,500.00 EUR" in pages[-1]


def test_a_line_with_a_long_name_and_description_wraps_and_stays_whole() -> None:
    long = PdfLine(name="A product name long enough to wrap over two lines of the item column",
                   description="First line\n" + "word " * 60, quantity=Decimal(3),
                   unit_price=Decimal("1.00"), discount_percent=Decimal(0),
                   line_total=Decimal("3.00"))
    runs = pdf_text(render_quote_pdf(a_quote(1, lines=(long,)))).splitlines()
    start = runs.index("First line")
    assert runs[start - 7:start - 2] == ["Line total", "3", "1.00", "0", "3.00"]
    assert " ".join(runs[start - 2:start]) == long.name
    wrapped = [run.split() for run in runs[start + 1:] if set(run.split()) == {"word"}]
    assert len(wrapped) > 1 and sum(map(len, wrapped)) == 60


def test_the_same_quote_gives_the_same_bytes_and_carries_its_metadata() -> None:
    quote = a_quote()
    pdf = render_quote_pdf(quote)
    assert pdf == render_quote_pdf(quote)
    assert b"/CreationDate (D:20260301090000Z" in pdf
    info = pdf_info(pdf)
    assert info["Title"] == "Quote Q-2026-0042: Ærlig Østbø Åsen AB"
    assert info["Author"] == "Acme Nordic AS"


def test_any_accent_colour_and_missing_texts_still_render() -> None:
    for quote in (a_quote(2, accent_color="red"), a_quote(2, accent_color="#FFFF00"),
                  a_quote(0, header_text=None, footer_text=None, terms=None, note=None,
                          seller_address=None, contact_name=None, accent_color=None)):
        assert "Total" in pdf_text(render_quote_pdf(quote))


def test_a_footer_too_long_for_every_page_closes_the_document() -> None:
    footer = "\n".join(f"Footer line {n}" for n in range(1, 11))
    pages = pdf_pages(render_quote_pdf(a_quote(100, footer_text=footer)))
    assert sum(page.count("Footer line 10") for page in pages) == 1
    assert "Footer line 10" in pages[-1]


def test_line_ends_and_tabs_in_texts_read_as_lines_and_spaces() -> None:
    text = pdf_text(render_quote_pdf(a_quote(1, terms="One\r\nTwo\rThree\tfour")))
    assert "One\nTwo\nThree    four" in text


@pytest.mark.parametrize(("value", "currency", "expected"), [
    (Decimal("1234567.891"), "NOK", "1,234,567.89 NOK"), (Decimal("0.005"), None, "0.00"),
    (Decimal("-0.00"), "EUR", "0.00 EUR"), ("-12.5", None, "-12.50"),
    (Decimal("1000"), "SEK", "1,000.00 SEK")])
def test_money_has_two_decimals_and_comma_thousands(value: Decimal | str,
                                                     currency: str | None,
                                                     expected: str) -> None:
    assert figures.money(value, currency) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("2.000", "2"), ("1.500", "1.5"), ("0.125", "0.125"), ("1500.000", "1,500"),
    ("100", "100"), ("0.000", "0"), ("12.50", "12.5")])
def test_quantities_have_no_trailing_zeros(value: str, expected: str) -> None:
    assert figures.plain_number(value) == expected


def test_an_accent_colour_must_be_rrggbb() -> None:
    assert figures.accent("#0b6e4f") == "#0B6E4F"
    for wrong in (None, "", "red", "#FFF", "#12345G", "#1234567", "#123456;x"):
        assert figures.accent(wrong) == figures.DEFAULT_ACCENT


# Reading fpdf2's output back: objects, streams, the fonts' ToUnicode maps, and each
# page's text runs (one run per text object, BT to ET; a page's runs joined by new lines).

def pdf_text(pdf: bytes) -> str:
    return "\n".join(pdf_pages(pdf))


def pdf_pages(pdf: bytes) -> list[str]:
    objects = _objects(pdf)
    catalog = next(body for body, _ in objects.values() if b"/Type /Pages" in body)
    kids = re.search(rb"/Kids \[([^\]]*)\]", catalog)
    assert kids is not None
    pages = [int(n) for n in re.findall(rb"(\d+) 0 R", kids.group(1))]
    return [_page_text(objects, objects[page][0]) for page in pages]


def pdf_info(pdf: bytes) -> dict[str, str]:
    objects = _objects(pdf)
    info = next(body for body, _ in objects.values() if b"/CreationDate" in body)
    return {key.decode(): _text_string(value)
            for key, value in re.findall(rb"/(\w+) (\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f]*>)",
                                         info, re.S)}


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    objects: dict[int, tuple[bytes, bytes | None]] = {}
    position = 0
    while match := re.compile(rb"(\d+) 0 obj\n").search(pdf, position):
        start = match.end()
        end = pdf.index(b"\nendobj", start)
        stream_at = pdf.find(b"stream\n", start, end)
        if stream_at == -1:
            objects[int(match.group(1))] = (pdf[start:end], None)
            position = end
            continue
        body = pdf[start:stream_at]
        length = re.search(rb"/Length (\d+)", body)
        assert length is not None
        raw = pdf[stream_at + 7:stream_at + 7 + int(length.group(1))]
        data = zlib.decompress(raw) if b"/FlateDecode" in body else raw
        objects[int(match.group(1))] = (body, data)
        position = pdf.index(b"\nendobj", stream_at + 7 + int(length.group(1)))
    return objects


def _page_text(objects: dict[int, tuple[bytes, bytes | None]], page: bytes) -> str:
    resources = re.search(rb"/Resources (\d+) 0 R", page)
    contents = re.search(rb"/Contents (\d+) 0 R", page)
    assert resources is not None and contents is not None
    fonts = {name: _unicode_map(objects, int(ref)) for name, ref in
             re.findall(rb"/(F\d+) (\d+) 0 R", objects[int(resources.group(1))][0])}
    content = objects[int(contents.group(1))][1]
    assert content is not None
    runs, run, font = [], "", b""
    for end, name, string in re.findall(
            rb"\b(ET)\b|/(F\d+) [\d.]+ Tf|(\((?:\\.|[^\\)])*\)) Tj", content, re.S):
        if end and run:
            runs.append(run)
            run = ""
        elif name:
            font = name
        elif string:
            codes = _literal(string[1:-1])
            run += "".join(fonts[font].get(int.from_bytes(codes[i:i + 2]), "\ufffd")
                           for i in range(0, len(codes), 2))
    return "\n".join(runs)


def _unicode_map(objects: dict[int, tuple[bytes, bytes | None]], font: int) -> dict[int, str]:
    reference = re.search(rb"/ToUnicode (\d+) 0 R", objects[font][0])
    assert reference is not None
    cmap = objects[int(reference.group(1))][1]
    assert cmap is not None
    mapping = {int(code, 16): bytes.fromhex(text.decode()).decode("utf-16-be")
               for code, text in re.findall(rb"<([0-9A-Fa-f]{4})> <([0-9A-Fa-f]+)>\n", cmap)}
    for first, last, text in re.findall(
            rb"<([0-9A-Fa-f]{4})> <([0-9A-Fa-f]{4})> <([0-9A-Fa-f]+)>", cmap):
        base = int(text, 16)
        for offset in range(int(last, 16) - int(first, 16) + 1):
            mapping[int(first, 16) + offset] = chr(base + offset)
    return mapping


def _literal(escaped: bytes) -> bytes:
    named = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

    def unescape(match: re.Match[bytes]) -> bytes:
        token = match.group(1)
        if token[:1].isdigit():
            return bytes([int(token, 8)])
        return named.get(token, token)

    return re.sub(rb"\\([0-7]{1,3}|.)", unescape, escaped, flags=re.S)


def _text_string(value: bytes) -> str:
    raw = bytes.fromhex(value[1:-1].decode()) if value.startswith(b"<") else _literal(
        value[1:-1])
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be")
    return raw.decode("latin-1")
