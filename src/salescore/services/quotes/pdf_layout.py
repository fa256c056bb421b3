"""How a quote's PDF is laid out and drawn (fpdf2's public API only): see `pdf.py`."""

from pathlib import Path
from typing import TYPE_CHECKING

from fpdf import FPDF

from salescore.services.quotes import figures

if TYPE_CHECKING:
    from salescore.services.quotes.pdf import PdfLine, QuotePdf, Signature

FONTS = Path(__file__).parent / "fonts"
_FONT = "DejaVuSans"
# fpdf2 reads all of a font file for each document (the two DejaVu Sans files took 30 ms
# of a 20-line quote's 80), so a quote is drawn from the smallest pair of these files that
# has all its characters. The smaller pairs are DejaVu Sans cut down to some code points
# (the same glyphs, widths and hinting, without the tables fpdf2 leaves out when it embeds
# a font), each made once from DejaVuSans.ttf and DejaVuSans-Bold.ttf with fontTools:
#   pyftsubset DejaVuSans.ttf --unicodes=U+0020-007E,... --layout-features='' \
#     --drop-tables+=GDEF,GPOS,GSUB,kern,FFTM,MATH --glyph-names --notdef-outline \
#     --name-IDs='*' --name-legacy --name-languages='*' --output-file=DejaVuSans-Latin.ttf
# test_quote_pdf.py checks that each has just the glyphs of its code points.
LATIN = ((0x20, 0x7E), (0xA0, 0x17F), (0x192, 0x192), (0x218, 0x21B), (0x2C6, 0x2C7),
         (0x2D8, 0x2DD), (0x2010, 0x2027), (0x2030, 0x203A), (0x2044, 0x2044),
         (0x20A0, 0x20C0), (0x2116, 0x2116), (0x2122, 0x2122), (0x2212, 0x2212),
         (0xFFFD, 0xFFFD))
"""Latin-1, Latin Extended-A, Romanian's letters, the spacing accents, punctuation,
currency, numero, trade mark and minus signs (417 glyphs of DejaVu Sans' 6,253)."""
LATIN_GREEK_CYRILLIC = (*LATIN, (0x180, 0x24F), (0x300, 0x52F))
"""And Latin Extended-B, the combining accents, Greek and Cyrillic (1,159 glyphs)."""
FONT_FILES: tuple[tuple[str, str, tuple[tuple[int, int], ...] | None], ...] = (
    ("DejaVuSans-Latin.ttf", "DejaVuSans-Bold-Latin.ttf", LATIN),
    ("DejaVuSans-LGC.ttf", "DejaVuSans-Bold-LGC.ttf", LATIN_GREEK_CYRILLIC),
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", None))
"""Regular, bold and the code points they have (None: all of DejaVu Sans), smallest first."""
_CONTROLS = frozenset((*range(0x20), *range(0x7F, 0xA0)))  # no file has these ("\n", ...)
_COVERS = tuple(None if ranges is None else _CONTROLS.union(
    *(range(first, last + 1) for first, last in ranges)) for _, _, ranges in FONT_FILES)
_MARGIN = 18.0
_TEXT = (33, 33, 33)
_MUTED = (102, 102, 102)
_STRIPE = (243, 245, 247)
_WATERMARK = (200, 30, 30)
_FOOTER_SIZE = 7.5
_FOOTER_LINE = 3.4
_FOOTER_LINES = 6
_TITLES = ("Item", "Qty", "Unit price", "Disc. %", "Line total")
_COLUMNS = (80.0, 18.0, 28.0, 18.0, 30.0)
_ALIGNS = ("L", "R", "R", "R", "R")
_TITLES_HEIGHT = 7.0
_ROW = 4.8
_DESCRIPTION_ROW = 4.0
_PAD = 1.3


def _characters(quote: "QuotePdf") -> list[int]:
    """Every character the document can show: its labels and figures (ASCII and "·") and
    the quote's texts. Telling fpdf2 saves it a third of the fonts' loading time."""
    texts = [quote.seller_name, quote.seller_address, quote.customer_name, quote.contact_name,
             quote.number, quote.currency, quote.header_text, quote.footer_text, quote.terms,
             quote.note, quote.content_sha256]
    texts += [text for line in quote.lines for text in (line.name, line.description)]
    if quote.signature is not None:
        texts += [quote.signature.name, quote.signature.email, quote.signature.ip]
    used = set(range(0x20, 0x7F)) | {ord("·")}
    used.update(ord(c) for text in texts if text for c in text)
    return sorted(used)


def font_files(used: list[int]) -> tuple[Path, Path]:
    """The regular and bold font files of the smallest set that has all these characters."""
    for (regular, bold, _), covers in zip(FONT_FILES, _COVERS, strict=True):
        if covers is None or covers.issuperset(used):
            return FONTS / regular, FONTS / bold
    raise AssertionError("the last font files have every character")


class QuoteDocument(FPDF):
    """One quote's PDF: the page furniture (accent band, footer, DRAFT watermark) and the
    parts `draw` puts one below the other."""

    def __init__(self, quote: "QuotePdf") -> None:
        super().__init__(format="A4", unit="mm")
        self.quote = quote
        self.accent = figures.rgb(figures.accent(quote.accent_color))
        light = figures.is_light(figures.accent(quote.accent_color))
        self.on_accent = _TEXT if light else (255, 255, 255)
        self.heading_color = _TEXT if light else self.accent
        used = _characters(quote)
        regular, bold = font_files(used)
        self.add_font(_FONT, "", regular, unicode_range=used)
        self.add_font(_FONT, "B", bold, unicode_range=used)
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.footer_on_every_page = False
        self.footer_height = 10.0
        self.set_lang("en")
        self.set_title(f"Quote {quote.number or 'DRAFT'}: {quote.customer_name}")
        self.set_author(quote.seller_name)
        self.set_subject(f"Quote for {quote.customer_name}")
        self.set_creator("salescore")
        if quote.created_at is not None:
            self.set_creation_date(quote.created_at)
        self.set_text_color(*_TEXT)

    def draw(self) -> bytes:
        quote = self.quote
        self._start()
        self.heading()
        self.text_block(None, quote.header_text)
        self.lines_table()
        self.totals()
        self.text_block("Note", quote.note)
        self.text_block("Terms", quote.terms)
        if quote.signature is not None:
            self.signature_block(quote.signature)
        elif quote.content_sha256 and not quote.is_draft:
            self.small(f"Content SHA-256: {quote.content_sha256}")
        if not self.footer_on_every_page:
            self.text_block(None, quote.footer_text, size=_FOOTER_SIZE)
        return bytes(self.output())

    def _start(self) -> None:
        """The first page, and room kept at the foot of every page for the footer text
        (measured on that page, as fpdf2 measures text only on one)."""
        self.add_page()
        if self.quote.footer_text:
            self.set_font(_FONT, size=_FOOTER_SIZE)
            lines = self._one_line_each(self.quote.footer_text, self.epw)
            height = _FOOTER_LINE * len(lines) if lines else self.multi_cell(
                w=self.epw, h=_FOOTER_LINE, dry_run=True, text=self.quote.footer_text,
                output="HEIGHT")
            assert isinstance(height, int | float)
            self.footer_on_every_page = height <= _FOOTER_LINES * _FOOTER_LINE
            self.footer_height += height if self.footer_on_every_page else 0
        self.set_auto_page_break(auto=True, margin=self.footer_height + 6)

    def header(self) -> None:
        self.set_fill_color(*self.accent)
        self.rect(0, 0, self.w, 5, style="F")
        self.set_y(_MARGIN)

    def footer(self) -> None:
        if self.quote.is_draft:
            self._watermark()
        self.set_y(-self.footer_height)
        self.set_font(_FONT, size=_FOOTER_SIZE)
        self.set_text_color(*_MUTED)
        if self.footer_on_every_page and self.quote.footer_text:
            self.paragraphs(self.quote.footer_text, 0, _FOOTER_LINE, align="C")
        number = self.quote.number if not self.quote.is_draft else "DRAFT"
        self.cell(w=0, h=6, text=f"Quote {number} · page {self.page_no()} of {{nb}}",
                  align="C")
        self.set_text_color(*_TEXT)

    def _watermark(self) -> None:
        """DRAFT across the page, see-through, over what the page shows."""
        with self.local_context(text_color=_WATERMARK, fill_opacity=0.22):
            self.set_font(_FONT, "B", 110)
            width = self.get_string_width("DRAFT")
            with self.rotation(angle=55, x=self.w / 2, y=self.h / 2):
                self.text(x=(self.w - width) / 2, y=self.h / 2 + 14, text="DRAFT")

    def heading(self) -> None:
        quote = self.quote
        top = self.get_y()
        self.set_font(_FONT, "B", 16)
        self.set_text_color(*self.heading_color)
        self.paragraphs(quote.seller_name, 105, 8)
        self.set_text_color(*_MUTED)
        self.set_font(_FONT, size=9)
        if quote.seller_address:
            self.paragraphs(quote.seller_address, 105, 4.5)
        left_bottom = self.get_y()
        self.set_xy(self.w - _MARGIN - 70, top)
        self.set_text_color(*_TEXT)
        if quote.is_draft:
            self.set_font(_FONT, "B", 22)
            self.set_text_color(190, 30, 30)
            self.cell(w=70, h=9, text="DRAFT", align="R", new_x="LEFT", new_y="NEXT")
            self.set_font(_FONT, size=9)
            self.cell(w=70, h=5, text="Not a valid offer: not yet sent", align="R",
                      new_x="LEFT", new_y="NEXT")
            self.set_text_color(*_TEXT)
        else:
            self.set_font(_FONT, "B", 16)
            self.cell(w=70, h=8, text="Quote", align="R", new_x="LEFT", new_y="NEXT")
            self.set_font(_FONT, size=11)
            self.cell(w=70, h=6, text=quote.number or "", align="R", new_x="LEFT",
                      new_y="NEXT")
        self.set_y(max(left_bottom, self.get_y()) + 6)
        self._facts()

    def _facts(self) -> None:
        quote = self.quote
        top = self.get_y()
        self.set_font(_FONT, size=8)
        self.set_text_color(*_MUTED)
        self.cell(w=105, h=4.5, text="To", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(*_TEXT)
        self.set_font(_FONT, "B", 11)
        self.paragraphs(quote.customer_name, 105, 5.5)
        if quote.contact_name:
            self.set_font(_FONT, size=9.5)
            self.paragraphs(f"Attn. {quote.contact_name}", 105, 5)
        left_bottom = self.get_y()
        facts = (("Date", figures.long_date(quote.created_on)),
                 ("Valid until", figures.long_date(quote.valid_until)),
                 ("Currency", quote.currency))
        self.set_y(top)
        for label, value in facts:
            self.set_x(self.w - _MARGIN - 70)
            self.set_font(_FONT, size=8)
            self.set_text_color(*_MUTED)
            self.cell(w=28, h=5, text=label)
            self.set_font(_FONT, "B", 9.5)
            self.set_text_color(*_TEXT)
            self.cell(w=42, h=5, text=value, align="R", new_x="LMARGIN", new_y="NEXT")
        self.set_y(max(left_bottom, self.get_y()) + 6)

    def text_block(self, title: str | None, text: str | None, size: float = 9.5) -> None:
        if not text:
            return
        if title is not None:
            if self.will_page_break(12):
                self.add_page()
            self.set_font(_FONT, "B", 10.5)
            self.set_text_color(*self.heading_color)
            self.cell(w=0, h=6, text=title, new_x="LMARGIN", new_y="NEXT")
            self.set_text_color(*_TEXT)
        self.set_font(_FONT, size=size)
        self.paragraphs(text, 0, size * 0.5)
        self.ln(4)

    def lines_table(self) -> None:
        """The lines, drawn text by text (20 lines take some 3 ms so, cell by cell 5 and
        fpdf2's `table()` 70): a line goes whole to the next page when it does not fit
        (one taller than a page starts on a new page unless its first row fits), and the
        column titles start every page the table is on."""
        if self.will_page_break(_TITLES_HEIGHT + 2 * _PAD + 2 * _ROW):
            self.add_page()
        self._column_titles()
        page_room = self.page_break_trigger - self.t_margin - _TITLES_HEIGHT
        for index, line in enumerate(self.quote.lines):
            self.set_font(_FONT, "B", 9)
            name = self._wrapped(line.name, _COLUMNS[0])
            self.set_font(_FONT, size=8)
            description = self._wrapped(line.description, _COLUMNS[0])
            height = 2 * _PAD + len(name) * _ROW + len(description) * _DESCRIPTION_ROW
            if self.will_page_break(height) and (
                    height <= page_room or self.will_page_break(2 * _PAD + _ROW)):
                self.add_page()
                self._column_titles()
            self._line_row(index, line, name, description, height)
        self.ln(3)

    def _wrapped(self, text: str | None, width: float) -> list[str]:
        if not text:
            return []
        if "\n" not in text and self.get_string_width(text) <= width - 2 * self.c_margin:
            return [text]
        lines = self.multi_cell(w=width, text=text, dry_run=True, output="LINES")
        assert isinstance(lines, list)
        return lines

    def _column_titles(self) -> None:
        self.set_font(_FONT, "B", 8.5)
        self.set_fill_color(*self.accent)
        self.set_text_color(*self.on_accent)
        x = self.l_margin
        self.rect(x, self.y, sum(_COLUMNS), _TITLES_HEIGHT, style="F")
        for title, width, align in zip(_TITLES, _COLUMNS, _ALIGNS, strict=True):
            self.put(title, x, width, _TITLES_HEIGHT, align)
            x += width
        self.ln(_TITLES_HEIGHT)
        self.set_text_color(*_TEXT)

    def _line_row(self, index: int, line: "PdfLine", name: list[str],
                  description: list[str], height: float) -> None:
        """One line; the figures first, so that a line taller than a page (a very long
        description) flows on to the next page below them."""
        top = self.get_y()
        if index % 2:
            self.set_fill_color(*_STRIPE)
            self.rect(self.l_margin, top, self.epw,
                      min(height, self.page_break_trigger - top), style="F")
        self.set_y(top + _PAD)
        self.set_font(_FONT, size=9)
        numbers = (figures.plain_number(line.quantity), figures.money(line.unit_price),
                   figures.plain_number(line.discount_percent), figures.money(line.line_total))
        x = self.l_margin + _COLUMNS[0]
        for text, width in zip(numbers, _COLUMNS[1:], strict=True):
            self.put(text, x, width, _ROW, "R")
            x += width
        self.set_font(_FONT, "B", 9)
        for text in name:
            self._line(text, _COLUMNS[0], _ROW, "L")
        self.set_font(_FONT, size=8)
        self.set_text_color(*_MUTED)
        for text in description:
            self._line(text, _COLUMNS[0], _DESCRIPTION_ROW, "L")
        self.set_text_color(*_TEXT)
        self.set_y(self.get_y() + _PAD)

    def totals(self) -> None:
        quote = self.quote
        rows = [("Lines total", figures.money(quote.lines_total, quote.currency))]
        if quote.discount_percent or quote.discount_amount:
            rows.append((f"Discount {figures.plain_number(quote.discount_percent)} %",
                         figures.money(-quote.discount_amount, quote.currency)))
        if self.will_page_break(6 * len(rows) + 14):
            self.add_page()
        left = self.w - _MARGIN - 90
        self.set_font(_FONT, size=9.5)
        for label, value in rows:
            self.set_x(left)
            self.cell(w=50, h=6, text=label)
            self.cell(w=40, h=6, text=value, align="R", new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(*self.accent)
        self.set_line_width(0.4)
        self.line(left, self.get_y() + 0.5, self.w - _MARGIN, self.get_y() + 0.5)
        self.ln(1.5)
        self.set_x(left)
        self.set_font(_FONT, "B", 12)
        self.cell(w=40, h=8, text="Total")
        self.cell(w=50, h=8, text=figures.money(quote.total, quote.currency), align="R",
                  new_x="LMARGIN", new_y="NEXT")
        self.ln(6)

    def signature_block(self, signature: "Signature") -> None:
        facts = [("Signed by", f"{signature.name} <{signature.email}>"),
                 ("Signed at", f"{figures.utc_time(signature.signed_at)} (UTC)"),
                 ("IP address", signature.ip or "not recorded"),
                 ("Content SHA-256", self.quote.content_sha256 or "not recorded")]
        if self.will_page_break(8 + 6 * len(facts) + 8):
            self.add_page()
        top = self.get_y()
        self.set_font(_FONT, "B", 10.5)
        self.set_text_color(*self.heading_color)
        self.set_x(_MARGIN + 3)
        self.cell(w=0, h=8, text="Signed electronically", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(*_TEXT)
        for label, value in facts:
            self.set_x(_MARGIN + 3)
            self.set_font(_FONT, size=8)
            self.set_text_color(*_MUTED)
            self.cell(w=30, h=5.5, text=label)
            self.set_text_color(*_TEXT)
            self.set_font(_FONT, "B" if label == "Signed by" else "", 8.5)
            self.paragraphs(value, self.epw - 36, 5.5)
        self.set_draw_color(*self.accent)
        self.set_line_width(0.4)
        self.rect(_MARGIN, top, self.epw, self.get_y() - top + 3)
        self.ln(8)

    def paragraphs(self, text: str, w: float, h: float, align: str = "J") -> None:
        """What `multi_cell(w, h, text, align=align, new_x="LMARGIN", new_y="NEXT")` draws
        from the current position (w=0: to the right margin), line by line with `text()`
        when each of its paragraphs fits on one line (a justified paragraph's last line is
        left-aligned), as most of a quote's texts do, in an eighth of multi_cell's time."""
        width = w or self.w - self.r_margin - self.x
        lines = self._one_line_each(text, width)
        if not lines:
            self.multi_cell(w=width, h=h, text=text, align=align, new_x="LMARGIN",
                            new_y="NEXT")
            return
        if len(lines) > 1 and not lines[-1]:
            lines.pop()  # a final line end: multi_cell moves on a line, on the same page
            self._line_at(lines, width, h, align)
            self.set_y(self.y + h)
        else:
            self._line_at(lines, width, h, align)

    def _line_at(self, lines: list[str], w: float, h: float, align: str) -> None:
        x = self.x
        for text in lines:
            self.set_x(x)
            self._line(text, w, h, align)

    def _one_line_each(self, text: str, width: float) -> list[str] | None:
        """The text's paragraphs if each fits on one line `width` wide, as fpdf2 fits them
        (text within the cell's margins); else None."""
        lines = text.split("\n")
        room = width - 2 * self.c_margin
        if any(self.get_string_width(line) > room for line in lines):
            return None
        return lines

    def _line(self, text: str, w: float, h: float, align: str) -> None:
        """One line of text at the current position, as `cell(w, h, text, align=align,
        new_x="LMARGIN", new_y="NEXT")` draws it, on the next page if it does not fit."""
        if self.will_page_break(h):
            x = self.x
            self.add_page()
            self.set_x(x)
        if text:
            self.put(text, self.x, w, h, align)
        self.set_y(self.y + h)

    def put(self, text: str, x: float, w: float, h: float, align: str) -> None:
        """The text where `cell(w, h, text, align=align)` at (x, the current y) puts it (on
        the line's middle, within the cell's margins), by `text()`: no page break, no
        fill, in half a cell's time."""
        if align == "R":  # else "L" or "J" (on one line, left-aligned)
            x += w - self.c_margin - self.get_string_width(text)
        elif align == "C":
            x += (w - self.get_string_width(text)) / 2
        else:
            x += self.c_margin
        self.text(x, self.y + 0.5 * h + 0.3 * self.font_size, text)

    def small(self, text: str) -> None:
        self.set_font(_FONT, size=7.5)
        self.set_text_color(*_MUTED)
        self.paragraphs(text, 0, 4)
        self.set_text_color(*_TEXT)
