"""The SQL every grouped money report shares, in two stages, all in PostgreSQL.

Stage one (the report's own query) scans the opportunities once and aggregates them by the
raw keys (owner id, stage id, month, ...) and currency, with exact sums; where the groups do
not add up to the totals, its `is_total` rows hold the totals per currency. Stage two (here) prices
each of those few rows at the currency's rate on the report date, names the keys (an owner
gives a department, region and sales groups too) and adds the rows up again per group, and
per currency for the total and the unconverted list. Converting sums rather than rows is
exact: sum(amount) * rate = sum(amount * rate) in numeric arithmetic."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    CTE,
    TIMESTAMP,
    BigInteger,
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
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from salescore.domain.reports.pipeline import (
    PERIODS,
    F,
    Group,
    GroupKey,
    KeyValue,
    Named,
    Report,
    Unconverted,
    figures_reader,
    money_fields,
    period_label,
    rounded,
)
from salescore.repositories.access.models import (
    departments,
    sales_groups,
    sales_regions,
    user_sales_groups,
    users,
)
from salescore.repositories.reports.fx import rate_on
from salescore.repositories.sales.models import (
    campaigns,
    opportunity_sellers,
    opportunity_types,
    sales_processes,
    sources,
    stages,
)
from salescore.repositories.sales.models import opportunities as o

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


def raw_columns(keys: Sequence[GroupKey], rows: Table = o,
                sellers: Table = _S) -> list[Label[Any]]:
    """Stage one's grouping columns for `keys`, each once, from `rows` (the opportunities,
    or the history), `seller_id` from `sellers` joined to them. Months and quarters are
    their first day; no expected close date, NULL. The day is truncated as a timestamp, the
    same first day: a bare date would be made a timestamptz, truncated in the session's
    zone and converted back, which made a pipeline by month a fifth slower."""
    made: dict[str, Label[Any]] = {}
    for key in keys:
        name = RAW[key]
        if name in made:
            continue
        if key in PERIODS:
            period: ColumnElement[str] = literal_column(f"'{key.value}'")  # same in GROUP BY
            day = cast(rows.c.expected_close_date, TIMESTAMP)  # not timestamptz: no zone
            made[name] = cast(func.date_trunc(period, day), Date).label(name)
        elif key is GroupKey.SELLER:
            made[name] = sellers.c.user_id.label(name)
        else:
            made[name] = rows.c[name].label(name)
    return list(made.values())


def grouped(columns: Sequence[Label[Any]], measures: Sequence[Label[Any]],
            source: FromClause, *conditions: ColumnElement[bool],
            rows: Table = o) -> Select[Any]:
    """Stage one: `measures` per raw key columns and currency (of `rows`, the
    opportunities or the history), in one scan of `source`. The groups add up to the
    totals, which stage two takes from them (`totals_from_groups`): cheaper than a
    grouping set per currency, which PostgreSQL would aggregate a second time for every
    row."""
    currency = rows.c.currency.label("currency")
    return (select(*columns, currency, false().label("is_total"), *measures)
            .select_from(source).where(*conditions)
            .group_by(*[c.element for c in columns], rows.c.currency))


def grouped_apart(columns: Sequence[Label[Any]], measures: Sequence[Label[Any]],
                  source: FromClause, whole: Sequence[Label[Any]],
                  *conditions: ColumnElement[bool], rows: Table = o,
                  whole_source: FromClause | None = None) -> Select[Any]:
    """Stage one when the groups do not add up to the totals (they split opportunities by
    seller share, or count one in several groups): the groups from `source` with
    `measures`, the totals per currency (`is_total`) from `whole_source` (default: `rows`,
    the opportunities or the history) with `whole`."""
    currency = rows.c.currency.label("currency")
    groups = select(*columns, currency, false().label("is_total"), *measures).select_from(
        source).where(*conditions).group_by(*[c.element for c in columns], rows.c.currency)
    totals = select(*[null().label(c.key) for c in columns], currency,
                    true().label("is_total"), *whole).select_from(
        rows if whole_source is None else whole_source).where(
        *conditions).group_by(rows.c.currency)
    return select(union_all(groups, totals).subquery("apart"))


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


def _named(organization_id: int | ColumnElement[int], keys: Sequence[GroupKey],
           priced: CTE) -> tuple[FromClause, list[Label[Any]]]:
    """The priced rows joined to what names each key; the key columns, labelled."""
    joined: FromClause = priced
    columns: list[Label[Any]] = []
    owner = users.alias("k_owner")
    if {GroupKey.OWNER, GroupKey.DEPARTMENT, GroupKey.SALES_REGION} & set(keys):
        joined = joined.outerjoin(owner, and_(owner.c.organization_id == organization_id,
                                              owner.c.id == priced.c.owner_id))
    for key in keys:
        if key in PERIODS:
            found = _KeyColumns(priced.c[RAW[key]])
        elif key in (GroupKey.OWNER, GroupKey.SELLER):
            person = owner if key is GroupKey.OWNER else users.alias("k_seller")
            if key is GroupKey.SELLER:
                joined = joined.outerjoin(person, and_(
                    person.c.organization_id == organization_id,
                    person.c.id == priced.c.seller_id))
            found = _KeyColumns(person.c.id, person.c.name)
        elif key is GroupKey.SALES_GROUP:
            member, group = user_sales_groups.alias("k_member"), sales_groups.alias("k_sales_group")
            joined = joined.outerjoin(member, and_(
                member.c.organization_id == organization_id,
                member.c.user_id == priced.c.owner_id)).outerjoin(group, and_(
                    group.c.organization_id == organization_id,
                    group.c.id == member.c.sales_group_id))
            found = _KeyColumns(group.c.id, group.c.name)
        else:
            ref: ColumnElement[Any]
            if key in _OWNER_UNITS:
                field, table = _OWNER_UNITS[key]
                ref = owner.c[field]
            else:
                table, ref = _NAMED_BY[key], priced.c[RAW[key]]
            unit = table.alias(f"k_{key.value}")
            joined = joined.outerjoin(unit, and_(unit.c.organization_id == organization_id,
                                                 unit.c.id == ref))
            found = _KeyColumns(unit.c.id, unit.c.name,
                                unit.c.position if key is GroupKey.STAGE else None)
        columns += found.labelled(key)
    return joined, columns


def converted(organization_id: int | ColumnElement[int],
              base_currency: str | ColumnElement[str], fx_date: date | ColumnElement[date],
              keys: Sequence[GroupKey], stage_one: Select[Any], kind: type[F], *,
              totals_from_groups: bool = False,
              group_limit: int | ColumnElement[int] | None = None) -> Select[Any]:
    """Stage two: the groups in the base currency (rows without a rate left out), then
    the total and one row per currency without a rate (in that currency), ordered. The
    totals add up stage one's `is_total` rows, or with `totals_from_groups` its group
    rows. With `group_limit`, at most that many groups (any of them: enough to tell that
    a bound is passed). The organization, base currency and day are values, or
    parameters of a statement made for any of them. Counts are answered as bigint (a sum
    of counts is numeric), the figures `read` makes an int of; the columns the order sorts
    by (`<key>_sort`) are not selected: `read` needs the ids and names only."""
    agg = stage_one.cte("agg")
    priced = select(agg, rate_on(organization_id, base_currency, agg.c.currency,
                                 fx_date).label("rate")).cte("priced")
    counts = [name for name, money in money_fields(kind) if not money]
    money = [name for name, money in money_fields(kind) if money]
    joined, key_columns = _named(organization_id, keys, priced)
    parts = []
    if keys:
        parts.append(select(
            false().label("is_total"), *key_columns, null().label("currency"),
            *[cast(func.sum(priced.c[n]), BigInteger).label(n) for n in counts],
            *[func.sum(priced.c[n] * priced.c.rate).label(n) for n in money],
        ).select_from(joined).where(~priced.c.is_total, priced.c.rate.is_not(None))
            .group_by(*key_columns).limit(group_limit))
    unconverted = case((priced.c.rate.is_(None), priced.c.currency))
    parts.append(select(
        true().label("is_total"), *[null().label(c.key) for c in key_columns],
        unconverted.label("currency"),
        *[cast(func.sum(priced.c[n]), BigInteger).label(n) for n in counts],
        *[func.sum(priced.c[n] * func.coalesce(priced.c.rate, 1)).label(n) for n in money],
    ).where(true() if totals_from_groups else priced.c.is_total).group_by(unconverted))
    rows = union_all(*parts).subquery("report")
    order: list[ColumnElement[Any]] = [rows.c.is_total]
    for key in keys:
        if key in PERIODS:
            order.append(rows.c[key.value].asc().nulls_last())
        else:
            order += [rows.c[f"{key.value}_sort"].asc().nulls_last(),
                      rows.c[f"{key.value}_id"].asc().nulls_last()]
    answered = [c for c in rows.c if not c.key.endswith("_sort")]
    return select(*answered).order_by(*order, rows.c.currency)


def _key_reader(key: GroupKey, at: dict[str, int]) -> Callable[[Any], KeyValue]:
    """What a row's `key` is; each month or record made once, however many groups name
    it (an owner in 20 stages is one Named, not 20)."""
    if key in PERIODS:
        value = at[key.value]
        labels: dict[date, str | None] = {}

        def period(row: Any) -> str | None:
            first = row[value]
            if first is None:
                return None
            label = labels.get(first)
            if label is None:
                label = labels[first] = period_label(key, first)
            return label
        return period
    id_, name = at[f"{key.value}_id"], at[f"{key.value}_name"]
    known: dict[int, Named] = {}

    def named(row: Any) -> Named | None:
        found = row[id_]
        if found is None:
            return None
        record = known.get(found)
        if record is None:
            record = known[found] = Named(found, row[name])
        return record
    return named


def read(rows: Sequence[Any], *, kind: type[F], keys: Sequence[GroupKey], currency: str,
         fx_date: date, columns: Sequence[str] | None = None) -> Report[F]:
    """The report from stage two's rows (SQLAlchemy's, or asyncpg's records with their
    `columns` named), its money rounded to the cent only now. Columns are read by
    position, as thousands of groups make every object per row count."""
    groups, unconverted = [], []
    total = rounded(kind, {name: 0 for name, _ in money_fields(kind)})
    if rows:
        at = {name: n for n, name in enumerate(rows[0]._fields if columns is None
                                                else columns)}
        figures_of = figures_reader(kind, [at[name] for name, _ in money_fields(kind)])
        readers = [(key, _key_reader(key, at)) for key in keys]
        is_total, currency_at = at["is_total"], at["currency"]
        for row in rows:
            figures = figures_of(row)
            if not row[is_total]:
                groups.append(Group({key: value(row) for key, value in readers}, figures))
            elif row[currency_at] is None:
                total = figures
            else:
                unconverted.append(Unconverted(row[currency_at], figures))
    return Report(currency=currency, fx_date=fx_date, group_by=tuple(keys), groups=groups,
                  total=total, unconverted=unconverted)
