"""The statements of the reports built from `opportunity_history` (one row per state of an
opportunity, valid from `valid_from` until `valid_to`, NULL while current).

The state at the end of a day is the row valid at the next midnight T: begun before T and
not ended before it (`valid_to >= T`: a change at T itself belongs to the next day)."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Float,
    Label,
    Select,
    and_,
    case,
    cast,
    distinct,
    exists,
    extract,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.sql.elements import ColumnElement

from salescore.domain.listing import Condition
from salescore.domain.reports.history import AS_OF_FILTERS
from salescore.domain.reports.pipeline import GroupKey
from salescore.repositories.listing import where
from salescore.repositories.reports.grouping import grouped, grouped_apart, raw_columns
from salescore.repositories.sales.models import opportunity_history as h
from salescore.repositories.sales.models import opportunity_seller_history as sh
from salescore.repositories.sales.models import stages as st

CENTI = literal(Decimal("0.01"))
CLOSED = ("won", "lost", "expired")
# The list filters the history answers, on the columns that held them then (a seller's
# in the seller history).
HISTORY_FILTERS: dict[str, ColumnElement[Any]] = {
    name: h.c["opportunity_id" if name == "id" else name]
    for name in AS_OF_FILTERS if name != "seller_id"}


def valid_at(moment: datetime, table: Any = h) -> ColumnElement[bool]:
    """The rows of a history table (`opportunity_history`, `opportunity_seller_history`)
    valid at `moment`."""
    return and_(table.c.valid_from < moment,
                or_(table.c.valid_to.is_(None), table.c.valid_to >= moment))


def _shares_at(moment: datetime) -> Any:
    """The seller shares valid at `moment`, with the state they belong to."""
    return and_(sh.c.organization_id == h.c.organization_id,
                sh.c.opportunity_id == h.c.opportunity_id, valid_at(moment, sh))


def _history_filter(condition: Condition, moment: datetime) -> ColumnElement[bool]:
    if condition.field == "seller_id":  # one of the sellers then (the report takes = only)
        return exists().where(_shares_at(moment), where(condition, sh.c.user_id))
    return where(condition, HISTORY_FILTERS[condition.field])


def as_of_stage_one(organization_id: int, moment: datetime, keys: Sequence[GroupKey],
                    conditions: Sequence[Condition]) -> Select[Any]:
    """Stage one of the shared pipeline report (report_grouping.py), over the states valid
    at `moment` instead of the opportunities: count, amount and weighted amount (amount *
    probability * 0.01, exact) of the open ones, per raw key and currency, and per
    currency alone, built as the live report's (`grouped`, or `grouped_apart` by seller:
    each seller's group has amount * share / 100 of the opportunities they held a share of
    then; the totals count each once)."""
    columns = raw_columns(keys, rows=h, sellers=sh)
    measures = _measures()
    mine = [h.c.organization_id == organization_id, valid_at(moment), h.c.status == "open",
            *[_history_filter(c, moment) for c in conditions]]
    if GroupKey.SELLER in keys:
        return grouped_apart(columns, _measures(sh.c.share * CENTI),
                             h.join(sh, _shares_at(moment)), measures, *mine, rows=h)
    return grouped(columns, measures, h, *mine, rows=h)


def _measures(share: ColumnElement[Any] | None = None) -> list[Label[Any]]:
    """Count, amount and weighted amount of the states, each amount times `share`."""
    amount = h.c.amount if share is None else h.c.amount * share
    return [func.count().label("count"), func.coalesce(func.sum(amount), 0).label("amount"),
            (func.coalesce(func.sum(amount * h.c.probability), 0) * CENTI).label(
                "weighted_amount")]


def _touching(organization_id: int, process_id: int) -> Any:
    return select(h.c.opportunity_id).where(h.c.organization_id == organization_id,
                                            h.c.sales_process_id == process_id)


def funnel_statement(organization_id: int, process_id: int, *, starts: datetime | None,
                     ends: datetime | None, now: datetime) -> Select[Any]:
    """Per stage of the process (in order): the opportunities whose stay in it began in
    [starts, ends) — a stay begins with a history row whose stage differs from the row
    before (or with the first row) and lasts until the stage changes, the opportunity
    closes or is deleted, or `now`; how many went on to an open or won stage positioned
    later in the process, how many were won after, and the days of the stays."""
    order = (h.c.valid_from, h.c.id)
    entry = case((func.lag(h.c.stage_id).over(partition_by=h.c.opportunity_id, order_by=order)
                  .is_distinct_from(h.c.stage_id), 1), else_=0)
    rows = select(h.c.opportunity_id, h.c.id, h.c.valid_from, h.c.valid_to, h.c.stage_id,
                  h.c.sales_process_id, h.c.status, entry.label("entry")).where(
        h.c.organization_id == organization_id,
        h.c.opportunity_id.in_(_touching(organization_id, process_id))).subquery("rows")
    numbered = select(rows, func.sum(rows.c.entry).over(
        partition_by=rows.c.opportunity_id, order_by=(rows.c.valid_from, rows.c.id)).label(
        "stay")).subquery("numbered")
    n = numbered.c
    stays = select(
        n.opportunity_id, n.stay, func.min(n.valid_from).label("entered_at"),
        func.min(n.stage_id).label("stage_id"), func.min(n.sales_process_id).label("process_id"),
        func.max(func.coalesce(n.valid_to, now)).label("left_at"),
        func.min(n.valid_from).filter(n.status != "open").label("closed_at"),
        func.bool_or(n.status == "won").label("won"),
        func.bool_or(n.valid_to.is_(None)).label("current"),
    ).group_by(n.opportunity_id, n.stay).subquery("stays")
    s = stays.c
    onward = case((and_(s.process_id == process_id, st.c.kind.in_(("open", "won"))),
                   st.c.position))
    marked = select(
        stays, st.c.position, st.c.kind,
        func.max(onward).over(partition_by=s.opportunity_id, order_by=s.stay,
                              rows=(1, None)).label("later_position"),
        func.bool_or(s.won).over(partition_by=s.opportunity_id, order_by=s.stay,
                                 rows=(0, None)).label("won_later"),
    ).select_from(stays.outerjoin(st, and_(st.c.organization_id == organization_id,
                                           st.c.id == s.stage_id))).subquery("marked")
    m = marked.c
    ended = func.least(m.left_at, func.coalesce(m.closed_at, m.left_at))
    days = cast(extract("epoch", ended - m.entered_at), Float) / 86400
    in_stage = m.kind == "open"
    per_stage = select(
        m.stage_id, func.count(distinct(m.opportunity_id)).label("entered"),
        func.count(distinct(m.opportunity_id)).filter(m.later_position > m.position).label(
            "moved_on"),
        func.count(distinct(m.opportunity_id)).filter(m.won_later).label("won"),
        func.count().label("stays"),
        func.count().filter(m.current, m.closed_at.is_(None)).label("still_in_stage"),
        func.percentile_cont(0.5).within_group(days).filter(in_stage).label("median_days"),
        func.avg(days).filter(in_stage).label("mean_days"),
    ).where(m.process_id == process_id,
            *([m.entered_at >= starts] if starts is not None else []),
            *([m.entered_at < ends] if ends is not None else [])).group_by(
        m.stage_id).subquery("per_stage")
    return _per_stage_of_process(organization_id, process_id, per_stage)


def calibration_statement(organization_id: int, process_id: int) -> Select[Any]:
    """Per stage of the process: the opportunities that were ever in it, and how many of
    them are now (in their latest state, deleted ones included) won, lost or neither."""
    been = select(h.c.opportunity_id, h.c.stage_id).distinct().where(
        h.c.organization_id == organization_id, h.c.sales_process_id == process_id,
    ).subquery("been")
    latest = select(h.c.opportunity_id, h.c.status).ext(distinct_on(h.c.opportunity_id)).where(
        h.c.organization_id == organization_id,
        h.c.opportunity_id.in_(_touching(organization_id, process_id)),
    ).order_by(h.c.opportunity_id, h.c.valid_from.desc(), h.c.id.desc()).subquery("latest")
    per_stage = select(
        been.c.stage_id, func.count().label("entered"),
        func.count().filter(latest.c.status == "won").label("won"),
        func.count().filter(latest.c.status == "lost").label("lost"),
    ).select_from(been.join(latest, latest.c.opportunity_id == been.c.opportunity_id)
                  ).group_by(been.c.stage_id).subquery("per_stage")
    return _per_stage_of_process(organization_id, process_id, per_stage)


def _per_stage_of_process(organization_id: int, process_id: int,
                          per_stage: Any) -> Select[Any]:
    return select(
        st.c.id, st.c.name, st.c.position, st.c.kind, st.c.probability,
        *[c for c in per_stage.c if c.key != "stage_id"],
    ).select_from(st.outerjoin(per_stage, per_stage.c.stage_id == st.c.id)).where(
        st.c.organization_id == organization_id, st.c.sales_process_id == process_id,
    ).order_by(st.c.position, st.c.id)
