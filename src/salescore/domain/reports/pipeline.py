"""The pipeline, commission and campaign reports (DOMAIN.md §8): what they group by, how
their periods and figures read, and how their money is rounded.

Every money figure is summed exactly and rounded once, half-even to the cent, when the
report is complete; amounts are in the organization's base currency, converted at the rate
valid on the report's `fx_date`. An opportunity in a currency without a rate on that date
is left out of the groups and totals and listed, in its own currency, as unconverted."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from salescore.domain.errors import InvalidInput
from salescore.domain.reports.bounds import check_period_length

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


class GroupKey(StrEnum):
    """What the pipeline can be grouped by. `seller` splits each opportunity among its
    sellers by share; department, sales region and sales group are the owner's."""

    OWNER = "owner"
    SELLER = "seller"
    DEPARTMENT = "department"
    SALES_REGION = "sales_region"
    SALES_GROUP = "sales_group"
    SALES_PROCESS = "sales_process"
    STAGE = "stage"
    MONTH = "month"
    QUARTER = "quarter"
    CAMPAIGN = "campaign"
    SOURCE = "source"
    TYPE = "type"


PERIODS = frozenset({GroupKey.MONTH, GroupKey.QUARTER})


@dataclass(frozen=True, slots=True)
class Named:
    """A record a group is keyed by: its id and its display name."""

    id: int
    name: str


KeyValue = Named | str | None


def parse_group_by(raw: str | None, allowed: tuple[GroupKey, ...] = tuple(GroupKey),
                   field: str = "group_by") -> tuple[GroupKey, ...]:
    """`owner,stage`: the keys in the order given, each at most once; none given, none."""
    if raw is None or not raw.strip():
        return ()
    keys: list[GroupKey] = []
    for part in (p.strip() for p in raw.split(",")):
        if part not in {k.value for k in allowed}:
            raise InvalidInput.of(field, f"{part!r} is not one of "
                                         f"{', '.join(k.value for k in allowed)}")
        if GroupKey(part) in keys:
            raise InvalidInput.of(field, f"names {part} twice")
        keys.append(GroupKey(part))
    return tuple(keys)


def one_group_key(raw: str, allowed: tuple[GroupKey, ...],
                  field: str = "group_by") -> GroupKey:
    """Exactly one of the `allowed` keys."""
    keys = parse_group_by(raw, allowed, field)
    if len(keys) != 1:
        raise InvalidInput.of(field, f"must be one of {', '.join(k.value for k in allowed)}")
    return keys[0]


def period_label(key: GroupKey, first_day: date | None) -> str | None:
    """A month reads `2027-01`, a quarter `2027-Q1`; no expected close date, no period
    (the `null` bucket)."""
    if first_day is None:
        return None
    if key is GroupKey.MONTH:
        return f"{first_day.year:04}-{first_day.month:02}"
    return f"{first_day.year:04}-Q{(first_day.month - 1) // 3 + 1}"


_NO_CENTS = Decimal("0.00")


def cents(exact: Decimal | None) -> Decimal:
    """An exact sum rounded half-even to the cent (none: zero)."""
    if not exact:  # none, or a zero of any scale or sign
        return _NO_CENTS
    decimal = exact if type(exact) is Decimal else Decimal(exact)
    return decimal.quantize(CENT, ROUND_HALF_EVEN)


def two_places(value: Decimal | float | None) -> Decimal | None:
    """A final ratio or number of days, half-even to two decimals (none stays none)."""
    if value is None:
        return None
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN)


def percent(part: int, whole: int) -> Decimal | None:
    """`part` as a percentage of `whole`; of nothing there is no share (null)."""
    return None if whole == 0 else two_places(Decimal(part) * HUNDRED / Decimal(whole))


def win_rate(won: int, lost: int) -> Decimal | None:
    """Won / (won + lost) as a percentage, half-even to two decimals; expired ones do not
    count. Nothing decided yet: no rate (null), not zero."""
    return percent(won, won + lost)


def check_period(start: date | None, end: date | None) -> None:
    """A report period may be open at either end, but cannot end before it starts, nor
    span more than the bound of domain/reports/bounds.py."""
    if start is not None and end is not None and end < start:
        raise InvalidInput.of("to", "must be on or after from")
    check_period_length(start, end)


def period_bounds(start: date | None, end: date | None,
                  time_zone: str) -> tuple[datetime | None, datetime | None]:
    """Dates `from` and `to`, both inclusive, as the instants [start, end) in the
    organization's time zone: from the start of `from` to the start of the day after
    `to`."""
    zone = ZoneInfo(time_zone)
    lower = None if start is None else datetime.combine(start, time(), zone)
    upper = None if end is None else datetime.combine(end + timedelta(days=1), time(), zone)
    return lower, upper


# Figures and Group are not frozen: a pipeline by owner and stage makes thousands of each,
# and a frozen dataclass is made at twice the cost (object.__setattr__ for every field).
# Nothing changes them once read.
@dataclass(slots=True)
class Figures:
    """Open opportunities: how many, their amount and their weighted amount (amount *
    probability / 100)."""

    count: int
    amount: Decimal
    weighted_amount: Decimal


@dataclass(frozen=True, slots=True)
class CommissionFigures:
    """A seller's credit: won amount * share / 100 over the deals won in the period, and
    on open deals amount * share / 100 * probability / 100."""

    won_count: int
    won_amount: Decimal
    open_count: int
    expected_amount: Decimal


@dataclass(frozen=True, slots=True)
class CampaignFigures:
    """What the opportunities of a campaign (or source) created in the period became."""

    created_count: int
    open_count: int
    pipeline_amount: Decimal
    weighted_amount: Decimal
    won_count: int
    won_amount: Decimal
    lost_count: int
    expired_count: int

    @property
    def win_rate(self) -> Decimal | None:
        return win_rate(self.won_count, self.lost_count)


F = TypeVar("F", Figures, CommissionFigures, CampaignFigures)


_SHAPES: dict[type[Any], tuple[tuple[str, bool], ...]] = {}


def money_fields(kind: type[Any]) -> tuple[tuple[str, bool], ...]:
    """Each figure's name, and whether it is money (else a count)."""
    shape = _SHAPES.get(kind)
    if shape is None:
        shape = _SHAPES[kind] = tuple((f.name, f.type is Decimal) for f in fields(kind))
    return shape


def rounded(kind: type[F], exact: Mapping[str, Any]) -> F:
    """Figures from exact sums: counts as they are, money rounded half-even to the cent."""
    values: dict[str, Any] = {name: cents(exact[name]) if money else int(exact[name] or 0)
                              for name, money in money_fields(kind)}
    return kind(**values)


def figures_reader(kind: type[F], positions: Sequence[int]) -> Callable[[Sequence[Any]], F]:
    """As `rounded`, for the many rows of a report: reads the exact figures of a row at
    `positions` (in the order of the kind's fields)."""
    plan = tuple((at, money) for at, (_, money)
                 in zip(positions, money_fields(kind), strict=True))

    def figures(row: Sequence[Any]) -> F:
        values: list[Any] = [cents(row[at]) if money else int(row[at] or 0)
                             for at, money in plan]
        return kind(*values)
    return figures


@dataclass(slots=True)
class Group(Generic[F]):
    key: dict[GroupKey, KeyValue]
    figures: F


@dataclass(frozen=True, slots=True)
class Unconverted(Generic[F]):
    """Figures of the opportunities in `currency`, which has no rate: in that currency."""

    currency: str
    figures: F


@dataclass(frozen=True, slots=True)
class Report(Generic[F]):
    """Groups in the order of their keys, the total over every converted opportunity
    (which the groups add up to unless they split or repeat opportunities), and what
    could not be converted. `start`/`end` is the period, where the report has one."""

    currency: str
    fx_date: date
    group_by: tuple[GroupKey, ...]
    groups: list[Group[F]]
    total: F
    unconverted: list[Unconverted[F]]
    start: date | None = None
    end: date | None = None
