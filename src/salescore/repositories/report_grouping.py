"""The SQL every grouped money report shares, in two stages, all in PostgreSQL.

Stage one (the report's own query) scans the opportunities once and aggregates them by the
raw keys (owner id, stage id, month, ...) and currency, with exact sums; the rows of its
`is_total` grouping set hold the same figures per currency alone. Stage two (here) prices
each of those few rows at the currency's rate on the report date, names the keys (an owner
gives a department, region and sales groups too) and adds the rows up again per group, and
per currency for the total and the unconverted list. Converting sums rather than rows is
exact: sum(amount) × rate = sum(amount × rate) in numeric arithmetic."""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CTE,
    Date,
    FromClause,
    Label,
    Select,
    Table,
    and_,
    case,
    cast,
    false,
    func,
    literal_column,
    null,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from salescore.domain.reports import (
    PERIODS,
    F,
    Group,
    GroupKey,
    KeyValue,
    Named,
    Report,
    Unconverted,
    period_label,
    rounded,
)
from salescore.repositories.fx import rate_on
from salescore.repositories.models import (
    departments,
    sales_groups,
    sales_regions,
    user_sales_groups,
    users,
)
from salescore.repositories.sales_models import (
    campaigns,
    opportunity_sellers,
    opportunity_types,
    sales_processes,
    sources,
    stages,
)
from salescore.repositories.sales_models import opportunities as o

_S = opportunity_sellers
# The column of stage one each key groups by; department, region and group are the owner's.
RAW: dict[GroupKey, str] = {
    GroupKey.OWNER: "owner_id", GroupKey.SELLER: "seller_id",
    GroupKey.DEPARTMENT: "owner_id", GroupKey.SALES_REGION: "owner_id",
    GroupKey.SALES_GROUP: "owner_id", GroupKey.SALES_PROCESS: "sales_process_id",
    GroupKey.STAGE: "stage_id", GroupKey.MONTH: "month", GroupKey.QUARTER: "quarter",
    GroupKey.CAMPAIGN: "campaign_id", GroupKey.SOURCE: "source_id", GroupKey.TYPE: "type_id",
}
_NAMED_BY: dict[GroupKey, Table] = {
    GroupKey.SALES_PROCESS: sales_processes, GroupKey.STAGE: stages,
    GroupKey.CAMPAIGN: campaigns, GroupKey.SOURCE: sources, GroupKey.TYPE: opportunity_types,
}
_OWNER_UNITS: dict[GroupKey, tuple[str, Table]] = {
    GroupKey.DEPARTMENT: ("department_id", departments),
    GroupKey.SALES_REGION: ("sales_region_id", sales_regions),
}


def raw_columns(keys: Sequence[GroupKey]) -> list[Label[Any]]:
    """Stage one's grouping columns for `keys`, each once (`seller_id` needs the sellers
    joined). Months and quarters are their first day; no expected close date, NULL."""
    made: dict[str, Label[Any]] = {}
    for key in keys:
        name = RAW[key]
        if name in made:
            continue
        if key in PERIODS:
            unit = literal_column(f"'{key.value}'")  # a literal: the same in GROUP BY
            made[name] = cast(func.date_trunc(unit, o.c.expected_close_date), Date).label(name)
        elif key is GroupKey.SELLER:
            made[name] = _S.c.user_id.label(name)
        else:
            made[name] = o.c[name].label(name)
    return list(made.values())


def grouped(columns: Sequence[Label[Any]], measures: Sequence[Label[Any]],
            source: FromClause, *conditions: ColumnElement[bool]) -> Select[Any]:
    """Stage one: `measures` per raw key columns and currency, and per currency alone
    (`is_total`), in one scan of `source`."""
    currency = o.c.currency.label("currency")
    if not columns:
        return select(currency, true().label("is_total"), *measures).select_from(
            source).where(*conditions).group_by(o.c.currency)
    expressions = [c.element for c in columns]
    return (select(*columns, currency, (func.grouping(*expressions) > 0).label("is_total"),
                   *measures)
            .select_from(source).where(*conditions)
            .group_by(func.grouping_sets(tuple_(*expressions, o.c.currency),
                                         tuple_(o.c.currency))))


def split(groups: Select[Any], totals: Select[Any]) -> Select[Any]:
    """Stage one when the groups split opportunities (by seller share): the groups from
    one query, the totals per currency from another over the whole opportunities."""
    columns = [c.key for c in groups.selected_columns if c.key not in ("currency",
                                                                        "is_total")]
    raw = [c for c in groups.selected_columns if c.key in columns]
    whole = {c.key: c for c in totals.selected_columns}
    stmt = union_all(
        groups.add_columns(false().label("is_total")),
        select(*[null().label(c.key) if c.key not in whole else whole[c.key] for c in raw],
               whole["currency"], true().label("is_total")))
    return select(stmt.subquery())


@dataclass(frozen=True, slots=True)
class _KeyColumns:
    id: ColumnElement[Any]
    name: ColumnElement[Any] | None = None
    sort: ColumnElement[Any] | None = None

    def labelled(self, key: GroupKey) -> list[Label[Any]]:
        if self.name is None:
            return [self.id.label(key.value)]
        return [self.id.label(f"{key.value}_id"), self.name.label(f"{key.value}_name"),
                (self.sort if self.sort is not None else self.name).label(
                    f"{key.value}_sort")]


def _named(organization_id: int, keys: Sequence[GroupKey],
           priced: CTE) -> tuple[FromClause, list[Label[Any]]]:
    """The priced rows joined to what names each key; the key columns, labelled."""
    joined: FromClause = priced
    columns: list[Label[Any]] = []
    owner = users.alias("owner")
    if {GroupKey.OWNER, GroupKey.DEPARTMENT, GroupKey.SALES_REGION} & set(keys):
        joined = joined.outerjoin(owner, and_(owner.c.organization_id == organization_id,
                                              owner.c.id == priced.c.owner_id))
    for key in keys:
        if key in PERIODS:
            found = _KeyColumns(priced.c[RAW[key]])
        elif key in (GroupKey.OWNER, GroupKey.SELLER):
            person = owner if key is GroupKey.OWNER else users.alias("seller")
            if key is GroupKey.SELLER:
                joined = joined.outerjoin(person, and_(
                    person.c.organization_id == organization_id,
                    person.c.id == priced.c.seller_id))
            found = _KeyColumns(person.c.id, person.c.name)
        elif key is GroupKey.SALES_GROUP:
            member, group = user_sales_groups.alias("member"), sales_groups.alias("group")
            joined = joined.outerjoin(member, and_(
                member.c.organization_id == organization_id,
                member.c.user_id == priced.c.owner_id)).outerjoin(group, and_(
                    group.c.organization_id == organization_id,
                    group.c.id == member.c.sales_group_id))
            found = _KeyColumns(group.c.id, group.c.name)
        else:
            field, table = _OWNER_UNITS.get(key, (RAW[key], _NAMED_BY.get(key)))
            unit = table.alias(key.value) if table is not None else None
            assert unit is not None
            ref = owner.c[field] if key in _OWNER_UNITS else priced.c[field]
            joined = joined.outerjoin(unit, and_(unit.c.organization_id == organization_id,
                                                 unit.c.id == ref))
            found = _KeyColumns(unit.c.id, unit.c.name,
                                unit.c.position if key is GroupKey.STAGE else None)
        columns += found.labelled(key)
    return joined, columns


def converted(organization_id: int, base_currency: str, fx_date: date,
              keys: Sequence[GroupKey], stage_one: Select[Any],
              kind: type[F]) -> Select[Any]:
    """Stage two: the groups in the base currency (rows without a rate left out), then
    the total and one row per currency without a rate (in that currency), ordered."""
    agg = stage_one.cte("agg")
    priced = select(agg, rate_on(organization_id, base_currency, agg.c.currency,
                                 fx_date).label("rate")).cte("priced")
    counts = [f.name for f in fields(kind) if f.type is not Decimal]
    money = [f.name for f in fields(kind) if f.type is Decimal]
    joined, key_columns = _named(organization_id, keys, priced)
    parts = []
    if keys:
        parts.append(select(
            false().label("is_total"), *key_columns, null().label("currency"),
            *[func.sum(priced.c[n]).label(n) for n in counts],
            *[func.sum(priced.c[n] * priced.c.rate).label(n) for n in money],
        ).select_from(joined).where(~priced.c.is_total, priced.c.rate.is_not(None))
            .group_by(*key_columns))
    unconverted = case((priced.c.rate.is_(None), priced.c.currency))
    parts.append(select(
        true().label("is_total"), *[null().label(c.key) for c in key_columns],
        unconverted.label("currency"),
        *[func.sum(priced.c[n]).label(n) for n in counts],
        *[func.sum(priced.c[n] * func.coalesce(priced.c.rate, 1)).label(n) for n in money],
    ).where(priced.c.is_total).group_by(unconverted))
    rows = union_all(*parts).subquery("report")
    order = [rows.c.is_total]
    for key in keys:
        if key in PERIODS:
            order.append(rows.c[key.value].asc().nulls_last())
        else:
            order += [rows.c[f"{key.value}_sort"].asc().nulls_last(),
                      rows.c[f"{key.value}_id"].asc().nulls_last()]
    return select(rows).order_by(*order, rows.c.currency)


def _key_value(key: GroupKey, row: Any) -> KeyValue:
    if key in PERIODS:
        return period_label(key, row[key.value])
    found = row[f"{key.value}_id"]
    return None if found is None else Named(found, row[f"{key.value}_name"])


def read(rows: Sequence[Any], *, kind: type[F], keys: Sequence[GroupKey], currency: str,
         fx_date: date) -> Report[F]:
    """The report from stage two's rows, its money rounded to the cent only now."""
    groups, unconverted = [], []
    total = rounded(kind, {f.name: 0 for f in fields(kind)})
    for row in (r._mapping for r in rows):
        figures = rounded(kind, row)
        if not row["is_total"]:
            groups.append(Group({k: _key_value(k, row) for k in keys}, figures))
        elif row["currency"] is None:
            total = figures
        else:
            unconverted.append(Unconverted(row["currency"], figures))
    return Report(currency=currency, fx_date=fx_date, group_by=tuple(keys), groups=groups,
                  total=total, unconverted=unconverted)
