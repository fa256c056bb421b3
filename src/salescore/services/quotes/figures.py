"""How a quote's figures and dates read, on its PDF and its page alike (English).

- Money: two decimals, a comma between thousands, the currency code after the amount
  ("12,345.60 NOK"); rounded half-even to the cent if it has more decimals.
- Quantities and percentages: as many decimals as they need and no trailing zeros
  ("2", "1.5", "0.125"; a stored "2.500" reads "2.5"), a comma between thousands.
- Dates: day, month name, year ("31 March 2026"); times in UTC, as ISO 8601 to the second
  on the PDF ("2026-03-01T09:30:00Z"), in words on the page ("1 March 2026 at 09:30 UTC").
- Accent colours: "#RRGGBB", anything else falls back to the default colour."""

import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

DEFAULT_ACCENT = "#1F4E79"
_CENT = Decimal("0.01")
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def money(value: Decimal | str, currency: str | None = None) -> str:
    amount = Decimal(value).quantize(_CENT, rounding=ROUND_HALF_EVEN)
    text = f"{amount.copy_abs() if amount.is_zero() else amount:,.2f}"
    return f"{text} {currency}" if currency else text


def plain_number(value: Decimal | str) -> str:
    """A quantity or a percentage with no trailing zeros."""
    number = Decimal(value)
    if number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    else:
        number = number.normalize()
    return f"{number.copy_abs() if number.is_zero() else number:,f}"


def long_date(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def utc_time(moment: datetime) -> str:
    """A time in UTC as ISO 8601 to the second; a naive one is taken to be UTC already."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def long_moment(moment: datetime) -> str:
    """A time in words, in UTC: "2 March 2026 at 10:11 UTC"."""
    utc = _utc(moment)
    return f"{long_date(utc.date())} at {utc:%H:%M} UTC"


def _utc(moment: datetime) -> datetime:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.replace(microsecond=0)


def accent(color: str | None) -> str:
    """The accent colour as "#RRGGBB" (upper case), or the default for anything else."""
    return color.upper() if color and _COLOR.fullmatch(color) else DEFAULT_ACCENT


def rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def is_light(color: str) -> bool:
    """Whether black text contrasts more than white with this colour (WCAG relative
    luminance above 0.179, where the two contrasts are equal)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179
