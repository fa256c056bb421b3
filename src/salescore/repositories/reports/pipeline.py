"""The pipeline, commission and campaign reports: one SQL statement each, aggregated in
PostgreSQL (see report_grouping.py for the two stages they share).

Money is summed exactly: amount * probability (scale 4) is multiplied by 0.01 rather than
divided by 100, so no division ever rounds; the report rounds once, at the end."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    FromClause,
    Integer,
    Label,
    Text,
    and_,
    bindparam,
    distinct,
    func,
    literal,
    literal_column,
    or_,
)
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
from salescore.repositories.prepared import Prepared, fetch
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
# 'open' is written into the SQL, not sent as a parameter: the partial index of the open
# opportunities (ix_opportunities_open_pipeline) serves only a plan that knows the status,
# and a prepared statement's generic plan would not.
_WON, _OPEN = o.c.status == "won", o.c.status == literal_column("'open'", Text)
_LOST, _EXPIRED = o.c.status == "lost", o.c.status == "expired"


def _sellers_of_each() -> FromClause:
    return o.join(s, and_(s.c.organization_id == o.c.organization_id,
                          s.c.opportunity_id == o.c.id))


# Filters whose SQL names the organization itself (a subquery of its customers, or of the
# opportunity's sellers): a statement with one of them is that organization's alone.
_NAMING_THE_ORGANIZATION = frozenset({"q", "seller_id"})


def list_filters(organization_id: int | None,
                 conditions: Sequence[Condition]) -> list[ColumnElement[bool]]:
    """The filters of `/v1/opportunities`, with the same meaning: `q` over name,
    description and customer name, `seller_id` any of the sellers, the rest on columns.
    Only `q` and `seller_id` need the organization."""
    found = []
    for condition in conditions:
        if condition.field in _NAMING_THE_ORGANIZATION:
            assert organization_id is not None, "q and seller_id name the organization"
            search = text_search if condition.field == "q" else has_seller
            found.append(search(organization_id, condition))
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


_ORGANIZATION = bindparam("organization_id", type_=BigInteger)
_BASE_CURRENCY = bindparam("base_currency", type_=Text)
_FX_DATE = bindparam("fx_date", type_=Date)
_GROUP_LIMIT = bindparam("group_limit", type_=Integer)


@dataclass(frozen=True, slots=True)
class _PipelineStatement:
    prepared: Prepared
    columns: tuple[str, ...]


@lru_cache(maxsize=128)
def _pipeline_statement(keys: tuple[GroupKey, ...], conditions: tuple[Condition, ...],
                        organization_id: int | None) -> _PipelineStatement:
    """The pipeline's statement for `keys` and `conditions`, compiled, with the
    organization, base currency, day and group limit as parameters: made once per process
    for every organization and day (building and compiling it took longer than reading a
    pipeline by department). Only filters that name the organization themselves
    (`organization_id` given) make it one organization's."""
    mine = [o.c.organization_id == _ORGANIZATION, _OPEN,
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
    stmt = converted(_ORGANIZATION, _BASE_CURRENCY, _FX_DATE, keys, stage_one, Figures,
                     totals_from_groups=GroupKey.SELLER not in keys, group_limit=_GROUP_LIMIT)
    return _PipelineStatement(Prepared.of(stmt), tuple(stmt.selected_columns.keys()))


def pipeline_statement(keys: Sequence[GroupKey]) -> Prepared:
    """The statement `PipelineReportRepository.pipeline` runs for `keys` with no filter
    (parameters `organization_id`, `base_currency`, `fx_date`, `group_limit`): for the
    bench, which times the API against it."""
    return _pipeline_statement(tuple(keys), (), None).prepared


class PipelineReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def pipeline(self, organization_id: int, *, base_currency: str, fx_date: date,
                       keys: Sequence[GroupKey],
                       conditions: Sequence[Condition]) -> Report[Figures]:
        """Open opportunities passing `conditions`, grouped by `keys`. By seller, each
        seller's group has amount * share / 100 of every opportunity they hold a share of;
        by sales group, an owner in several groups counts in each, in none in `null`.
        Run by asyncpg itself (repositories/prepared.py): its records are read as they
        come, without a SQLAlchemy row for each of thousands of groups."""
        naming = any(c.field in _NAMING_THE_ORGANIZATION for c in conditions)
        statement = _pipeline_statement(tuple(keys), tuple(conditions),
                                        organization_id if naming else None)
        rows = await fetch(self._session, statement.prepared, organization_id=organization_id,
                           base_currency=base_currency, fx_date=fx_date,
                           group_limit=groups_to_ask())
        return read(rows, kind=Figures, keys=keys, currency=base_currency, fx_date=fx_date,
                    columns=statement.columns)

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

