"""The pipeline-movement statement: the waterfall between the states of the opportunities
at two instants, from `opportunity_history` (see domain Movement for its lines).

Most opportunities are in the same state at both ends (one history row spans both): they
are only in the opening and closing figures, and are summed straight from their rows. The
others, whose row at one end is not their row at the other, are paired up per
opportunity, classified and summed per line. Each state's amount is converted at the rate
of `fx_date` and rounded half-even to the cent on its own, so that the lines add up to the
cent; a currency without a rate is reported apart."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.sql.elements import ColumnElement

from salescore.domain.reports.history import CloseWindow, Movement
from salescore.repositories.reports.fx import rate_on
from salescore.repositories.reports.history_sql import CLOSED, valid_at
from salescore.repositories.reports.models import exchange_rates
from salescore.repositories.sales.models import opportunity_history as h

LINES = ("opening", *(m.value for m in Movement), "closing")
_NONE = ""  # the join key of the converted rows (currency NULL)


def rates_statement(organization_id: int, base_currency: str, fx_date: date) -> Select[Any]:
    """The rate on `fx_date` (fx.rate_on) of each currency the organization has rates for,
    and of the base; a currency missing from the answer, or with a NULL rate, has none."""
    known = union(select(exchange_rates.c.currency.label("currency")).where(
        exchange_rates.c.organization_id == organization_id),
        select(literal(base_currency).label("currency"))).subquery("known")
    return select(known.c.currency, rate_on(organization_id, base_currency,
                                            known.c.currency, fx_date).label("rate"))


@dataclass(frozen=True, slots=True)
class Money:
    """Conversion to the base currency at known rates, written into the statement as
    constants: no lookup per row, and the statement stays parallel-safe."""

    base_currency: str
    rates: dict[str, Decimal | None]

    def rate(self, currency: ColumnElement[str]) -> ColumnElement[Any]:
        """NULL for a currency without a rate (and for no currency)."""
        found = {c: r for c, r in self.rates.items() if r is not None}
        if not found:
            return null()
        return case({c: literal(r) for c, r in found.items()}, value=currency)

    def in_base(self, amount: ColumnElement[Any],
                currency: ColumnElement[str]) -> ColumnElement[Any]:
        """Rounded half-even to the cent; NULL without a rate. The base currency's
        amounts, nearly all of them, pass as they are."""
        return case((currency == literal(self.base_currency), amount),
                    else_=func.half_even_cents(amount * self.rate(currency)))


def _in_window(window: CloseWindow, close: ColumnElement[Any]) -> ColumnElement[bool]:
    if window.first is None and window.last is None:
        return true()
    return and_(close.is_not(None),
                *([close >= window.first] if window.first is not None else []),
                *([close <= window.last] if window.last is not None else []))


def _unchanged(organization_id: int, money: Money, both: ColumnElement[bool],
               window: CloseWindow) -> Any:
    """The pipeline opportunities whose one state spans both ends, per missing currency."""
    missing = case((money.rate(h.c.currency).is_(None), h.c.currency))
    return select(
        func.coalesce(missing, _NONE).label("key"), func.count().label("count"),
        func.sum(money.in_base(h.c.amount, h.c.currency)).label("amount"),
        func.sum(h.c.amount).label("raw"),
    ).where(h.c.organization_id == organization_id, both, h.c.status == "open",
            _in_window(window, h.c.expected_close_date)).group_by(missing).subquery(
        "unchanged")


def _end(organization_id: int, where: ColumnElement[bool], ending: str) -> Any:
    """The state at one end of the opportunities whose state at the other end is another
    row (or none)."""
    return select(h.c.opportunity_id, *[h.c[c].label(f"{c}{ending}") for c in (
        "status", "amount", "currency", "expected_close_date")]).where(
        h.c.organization_id == organization_id, where).subquery(f"end{ending}")


def _changed(organization_id: int, money: Money, opening_at: datetime, closing_at: datetime,
             window: CloseWindow) -> Any:
    """The other opportunities, each with its state at each end, classified and summed."""
    # valid at the opening but not at the closing: ended in between; and the other way
    # round: begun in between, still valid at the closing (ranges an index can serve)
    start = _end(organization_id, and_(h.c.valid_from < opening_at,
                                       h.c.valid_to >= opening_at, h.c.valid_to < closing_at),
                 "0")
    end = _end(organization_id, and_(h.c.valid_from >= opening_at, h.c.valid_from < closing_at,
                                     or_(h.c.valid_to.is_(None), h.c.valid_to >= closing_at)),
               "1")
    paired = start.join(end, start.c.opportunity_id == end.c.opportunity_id, full=True)
    s, e = start.c, end.c
    open0, open1 = s.status0 == "open", e.status1 == "open"
    p0 = and_(open0, _in_window(window, s.expected_close_date0))
    p1 = and_(open1, _in_window(window, e.expected_close_date1))
    new = and_(s.status0.is_(None), e.status1.is_not(None), or_(
        p1, and_(e.status1.in_(CLOSED), _in_window(window, e.expected_close_date1))))
    missing = case((and_(e.status1.is_not(None), money.rate(e.currency1).is_(None)),
                    e.currency1), (and_(p0, money.rate(s.currency0).is_(None)), s.currency0))
    flags = select(
        func.coalesce(p0, False).label("p0"), func.coalesce(p1, False).label("p1"),
        new.label("new"), func.coalesce(open0, False).label("open0"),
        func.coalesce(open1, False).label("open1"), s.status0, e.status1, s.amount0,
        e.amount1, money.in_base(s.amount0, s.currency0).label("a0"),
        money.in_base(e.amount1, e.currency1).label("a1"),
        func.coalesce(missing, _NONE).label("key"),
    ).select_from(paired).where(or_(p0, p1, new)).subquery("flags")
    f = flags.c
    leaving = or_(f.p0, f.new)
    lines: dict[str, tuple[ColumnElement[bool], ColumnElement[Any]]] = {
        "opening": (f.p0, f.a0),
        "new": (f.new, f.a1),
        "reopened": (and_(f.status0.in_(CLOSED), f.p1), f.a1),
        "pulled_in": (and_(f.open0, ~f.p0, f.p1), f.a1),
        "increased": (and_(f.p0, f.a1 > f.a0), f.a1 - f.a0),
        "decreased": (and_(f.p0, f.a1 < f.a0), f.a0 - f.a1),
        **{status: (and_(leaving, f.status1 == status), f.a1) for status in CLOSED},
        "slipped": (and_(f.p0, f.open1, ~f.p1), f.a1),
        "deleted": (and_(f.p0, f.status1.is_(None)), f.a0),
        "closing": (f.p1, f.a1),
    }
    return select(
        f.key, func.count().label("count"),
        func.coalesce(func.sum(f.amount0).filter(f.p0), 0).label("opening_raw"),
        func.coalesce(func.sum(f.amount1).filter(f.p1), 0).label("closing_raw"),
        *[func.count().filter(test).label(f"{line}_count") for line, (test, _) in lines.items()],
        *[func.coalesce(func.sum(value).filter(test), 0).label(f"{line}_amount")
          for line, (test, value) in lines.items()],
    ).group_by(f.key).subquery("changed")


def movement_statement(organization_id: int, *, money: Money, opening_at: datetime,
                       closing_at: datetime, window: CloseWindow) -> Select[Any]:
    """One row of exact figures per line (`<line>_count`, `<line>_amount`) for the
    opportunities with a rate (`unconverted` NULL), and one per currency without one:
    how many opportunities, their opening and closing amounts in that currency."""
    same = _unchanged(organization_id, money,
                      and_(valid_at(opening_at), valid_at(closing_at)), window)
    moved = _changed(organization_id, money, opening_at, closing_at, window)
    key = func.coalesce(moved.c.key, same.c.key)

    def plus(column: str, extra: ColumnElement[Any] | None = None) -> ColumnElement[Any]:
        mine = func.coalesce(moved.c[column], 0)
        return mine if extra is None else mine + func.coalesce(extra, 0)

    ends = ("opening", "closing")
    return select(
        func.nullif(key, _NONE).label("unconverted"),
        plus("count", same.c.count).label("count"),
        *[plus(f"{end}_raw", same.c.raw).label(f"{end}_raw") for end in ends],
        *[plus(f"{line}_count", same.c.count if line in ends else None).label(
            f"{line}_count") for line in LINES],
        *[plus(f"{line}_amount", same.c.amount if line in ends else None).label(
            f"{line}_amount") for line in LINES],
    ).select_from(moved.join(same, moved.c.key == same.c.key, full=True)).order_by(
        key != _NONE, key)
