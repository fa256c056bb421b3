"""The pipeline, commission and campaign reports: one SQL statement each, aggregated in
PostgreSQL (see report_grouping.py for the two stages they share).

Money is summed exactly: amount * probability (scale 4) is multiplied by 0.01 rather than
divided by 100, so no division ever rounds; the report rounds once, at the end."""

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Label, and_, distinct, func, literal, or_
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.listing import Condition
from salescore.domain.reports.bounds import groups_to_ask
from salescore.domain.reports.pipeline import (
    CampaignFigures,
    CommissionFigures,
    Figures,
    GroupKey,
    Report,
)
from salescore.repositories.listing import where
from salescore.repositories.reports.grouping import (
    converted,
    grouped,
    grouped_apart,
    raw_columns,
    read,
)
from salescore.repositories.sales.models import opportunities as o
from salescore.repositories.sales.models import opportunity_sellers as s
from salescore.repositories.sales.opportunities import LIST_COLUMNS, has_seller, text_search

_CENTI = literal(Decimal("0.01"))
_WON, _OPEN = o.c.status == "won", o.c.status == "open"
_LOST, _EXPIRED = o.c.status == "lost", o.c.status == "expired"


def _sellers_of_each() -> FromClause:
    return o.join(s, and_(s.c.organization_id == o.c.organization_id,
                          s.c.opportunity_id == o.c.id))


def list_filters(organization_id: int,
                 conditions: Sequence[Condition]) -> list[ColumnElement[bool]]:
    """The filters of `/v1/opportunities`, with the same meaning: `q` over name,
    description and customer name, `seller_id` any of the sellers, the rest on columns."""
    found = []
    for condition in conditions:
        if condition.field == "q":
            found.append(text_search(organization_id, condition))
        elif condition.field == "seller_id":
            found.append(has_seller(organization_id, condition))
        else:
            found.append(where(condition, LIST_COLUMNS[condition.field]))
    return found


def _count(condition: ColumnElement[bool] | None = None) -> ColumnElement[Any]:
    counted = func.count()
    return (counted if condition is None else counted.filter(condition))


def _sum(value: ColumnElement[Any], condition: ColumnElement[bool] | None = None,
         scale: ColumnElement[Any] | None = None) -> ColumnElement[Any]:
    summed = func.sum(value) if condition is None else func.sum(value).filter(condition)
    total: ColumnElement[Any] = func.coalesce(summed, 0)
    return total if scale is None else total * scale


class PipelineReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def pipeline(self, organization_id: int, *, base_currency: str, fx_date: date,
                       keys: Sequence[GroupKey],
                       conditions: Sequence[Condition]) -> Report[Figures]:
        """Open opportunities passing `conditions`, grouped by `keys`. By seller, each
        seller's group has amount * share / 100 of every opportunity they hold a share of;
        by sales group, an owner in several groups counts in each, in none in `null`."""
        mine = [o.c.organization_id == organization_id, _OPEN,
                *list_filters(organization_id, conditions)]
        columns = raw_columns(keys)
        whole = [_count().label("count"), _sum(o.c.amount).label("amount"),
                 _sum(o.c.amount * o.c.probability, scale=_CENTI).label("weighted_amount")]
        if GroupKey.SELLER in keys:
            share = s.c.share * _CENTI
            stage_one = grouped_apart(columns, [
                _count().label("count"), _sum(o.c.amount * share).label("amount"),
                _sum(o.c.amount * o.c.probability * share, scale=_CENTI).label(
                    "weighted_amount")], _sellers_of_each(), whole, *mine)
        else:
            stage_one = grouped(columns, whole, o, *mine)
        stmt = converted(organization_id, base_currency, fx_date, keys, stage_one, Figures,
                         totals_from_groups=GroupKey.SELLER not in keys,
                         group_limit=groups_to_ask())
        rows = (await self._session.execute(stmt)).all()
        return read(rows, kind=Figures, keys=keys, currency=base_currency, fx_date=fx_date)

    async def commissions(self, organization_id: int, *, base_currency: str, fx_date: date,
                          won_from: datetime | None,
                          won_before: datetime | None) -> Report[CommissionFigures]:
        """Per seller: the deals won in [won_from, won_before) and amount * share / 100 of
        them; every open deal and amount * share / 100 * probability / 100 of it. Totals
        count each deal once."""
        won = and_(_WON, *([o.c.closed_at >= won_from] if won_from else []),
                   *([o.c.closed_at < won_before] if won_before else []))
        share = s.c.share * _CENTI
        credits = [_sum(o.c.amount * share, won).label("won_amount"),
                   _sum(o.c.amount * o.c.probability * share, _OPEN, _CENTI).label(
                       "expected_amount")]

        def counted(count: Callable[[ColumnElement[bool]], ColumnElement[Any]]
                    ) -> list[Label[Any]]:
            return [count(won).label("won_count"), count(_OPEN).label("open_count"),
                    *credits]

        keys = (GroupKey.SELLER,)
        stage_one = grouped_apart(
            raw_columns(keys), counted(_count), _sellers_of_each(),
            counted(lambda c: func.count(distinct(o.c.id)).filter(c)),
            o.c.organization_id == organization_id, or_(won, _OPEN),
            whole_source=_sellers_of_each())
        stmt = converted(organization_id, base_currency, fx_date, keys, stage_one,
                         CommissionFigures)
        rows = (await self._session.execute(stmt)).all()
        return read(rows, kind=CommissionFigures, keys=keys, currency=base_currency,
                    fx_date=fx_date)

    async def campaigns(self, organization_id: int, *, base_currency: str, fx_date: date,
                        key: GroupKey, created_from: datetime | None,
                        created_before: datetime | None) -> Report[CampaignFigures]:
        """Per campaign (or source): the opportunities created in [created_from,
        created_before), and what they are now: open (amount, weighted), won (amount),
        lost, expired."""
        measures = [
            _count().label("created_count"), _count(_OPEN).label("open_count"),
            _sum(o.c.amount, _OPEN).label("pipeline_amount"),
            _sum(o.c.amount * o.c.probability, _OPEN, _CENTI).label("weighted_amount"),
            _count(_WON).label("won_count"), _sum(o.c.amount, _WON).label("won_amount"),
            _count(_LOST).label("lost_count"), _count(_EXPIRED).label("expired_count")]
        stage_one = grouped(
            raw_columns((key,)), measures, o, o.c.organization_id == organization_id,
            *([o.c.created_at >= created_from] if created_from else []),
            *([o.c.created_at < created_before] if created_before else []))
        stmt = converted(organization_id, base_currency, fx_date, (key,), stage_one,
                         CampaignFigures, totals_from_groups=True,
                         group_limit=groups_to_ask())
        rows = (await self._session.execute(stmt)).all()
        return read(rows, kind=CampaignFigures, keys=(key,), currency=base_currency,
                    fx_date=fx_date)

