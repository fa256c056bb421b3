"""Opportunities and their sellers."""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from asyncpg import UniqueViolationError
from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Select,
    Text,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.errors import Conflict
from salescore.domain.listing import Condition, ListQuery, Op, Page
from salescore.domain.patterns import TextPattern
from salescore.domain.sales.opportunities import (
    AmountSource,
    Opportunity,
    ProbabilitySource,
    Status,
)
from salescore.domain.sales.processes import (
    DefaultFor,
    SalesProcess,
)
from salescore.domain.sales.shares import Seller, as_percent
from salescore.repositories.bulk import insert_rows, reserve_ids
from salescore.repositories.customers.models import customers
from salescore.repositories.listing import fetch_page, where
from salescore.repositories.prepared import Prepared, driver, fetch, fetchrow
from salescore.repositories.sales.models import opportunities as o
from salescore.repositories.sales.models import opportunity_sellers, orders, stages
from salescore.repositories.sales.models import sales_processes as processes
from salescore.repositories.sales.processes import placing_key, placing_lock, stage_to_domain

_SELLERS = opportunity_sellers
# `weighted_amount` is PostgreSQL's to compute, `ordered_amount` the orders' to keep
# (repositories/sales/orders.py): an opportunity write stores neither.
_STORED = [c for c in o.c if c.key not in {"id", "organization_id", "weighted_amount",
                                           "ordered_amount"}]
LIST_COLUMNS: dict[str, ColumnElement[Any]] = {c.key: c for c in o.c}
_HUNDRED = 100
# An empty array; wrapping the subquery in coalesce() also makes it an array expression.
_NO_IDS = cast(literal("{}"), ARRAY(BigInteger))


def _seller_column(column: ColumnElement[Any], label: str) -> Any:
    return select(func.array_agg(aggregate_order_by(column, _SELLERS.c.added_seq))).where(
        _SELLERS.c.organization_id == o.c.organization_id,
        _SELLERS.c.opportunity_id == o.c.id).scalar_subquery().label(label)


# An opportunity with its sellers (earliest added first) in one row.
_SELECT = select(o, _seller_column(_SELLERS.c.user_id, "seller_ids"),
                 _seller_column(_SELLERS.c.share, "seller_shares"))


_ORG: BindParameter[int] = bindparam("organization_id")
_ID: BindParameter[int] = bindparam("id")
_BY_ID = _SELECT.where(o.c.organization_id == _ORG, o.c.id == _ID)
_GET = Prepared.of(_BY_ID)
_GET_FOR_UPDATE = Prepared.of(_BY_ID.with_for_update(of=o))
# Locked, then the placing lock taken (shared) once the row is: the order in which a
# stage's removal takes them too. The values stay where _SELECT has them.
_GET_FOR_PLACING = Prepared.of(select(
    _BY_ID.with_for_update(of=o).subquery(),
    func.pg_advisory_xact_lock_shared(placing_key(_ORG)).label("placing_lock")))
_STAGE_LABELS = tuple((c.key, f"stage_{c.key}") for c in stages.c)


def _with_stages() -> Select[Any]:
    """A process with its stages, a row each (one row with no stage for a process that
    has none)."""
    return (select(processes, *(c.label(label) for c, (_, label) in zip(
        stages.c, _STAGE_LABELS, strict=True)))
        .join(stages, (stages.c.organization_id == processes.c.organization_id)
              & (stages.c.sales_process_id == processes.c.id), isouter=True))


_PIPELINE = Prepared.of(_with_stages().where(
    processes.c.organization_id == _ORG, processes.c.id == _ID).order_by(stages.c.position))
_PIPELINE_OF_STAGE = Prepared.of(_with_stages().where(
    processes.c.organization_id == _ORG,
    processes.c.id == select(stages.c.sales_process_id).where(
        stages.c.organization_id == _ORG, stages.c.id == bindparam("stage_id"),
    ).scalar_subquery()).order_by(stages.c.position))
_PLACING_KEY = "placing lock"
_HOLD_STAGES = placing_lock(_ORG, shared=True)  # built once: run through the session
_BY_EXTERNAL_ID = Prepared.of(select(o.c.id).where(
    o.c.organization_id == _ORG, o.c.external_id == bindparam("external_id")))
_LOCK_EXTERNAL_ID = Prepared.of(select(func.pg_advisory_xact_lock(func.hashtextextended(
    func.concat(cast(_ORG, BigInteger), ":", bindparam("external_id", type_=Text)), 0))))
_DOMAIN_KEYS = tuple(c.key for c in o.c if c.key != "weighted_amount")
_INSERTED = ("organization_id", *(c.key for c in _STORED))
# The opportunity and its sellers (earliest added first) in one statement.
_INSERT = (
    f"WITH new AS (INSERT INTO opportunities ({', '.join(_INSERTED)}) VALUES"
    f" ({', '.join(f'${n}' for n in range(1, len(_INSERTED) + 1))}) RETURNING id),"
    " added AS (INSERT INTO opportunity_sellers (organization_id, opportunity_id, user_id,"
    " share, added_seq) SELECT $1, new.id, s.user_id, s.share, s.seq - 1 FROM new,"
    f" unnest(${len(_INSERTED) + 1}::bigint[], ${len(_INSERTED) + 2}::numeric[])"
    " WITH ORDINALITY AS s(user_id, share, seq))"
    " SELECT id FROM new")


# The columns of a set-wise insert, in the order of `_to_row`'s values after the id.
_BULK_COLUMNS = ("organization_id", "id", *(c.key for c in _STORED))
_BULK_SELLER_COLUMNS = ("organization_id", "opportunity_id", "user_id", "share", "added_seq")


# Where each value is in a row of _SELECT (a SQLAlchemy row or an asyncpg record alike).
_KEYS = [c.key for c in _SELECT.selected_columns]
_DOMAIN_AT = tuple((key, n) for n, key in enumerate(_KEYS) if key in _DOMAIN_KEYS)
_SELLER_IDS_AT, _SELLER_SHARES_AT = _KEYS.index("seller_ids"), _KEYS.index("seller_shares")


@lru_cache(maxsize=256)
def _update_of(keys: tuple[str, ...]) -> Prepared:
    """The UPDATE of these columns (and the version) of one opportunity, compiled once per
    set of columns: a PATCH, a move, a win or a loss each change a few, and the same few
    each time."""
    return Prepared.of(update(o).where(o.c.organization_id == _ORG, o.c.id == _ID).values(
        {key: bindparam(f"new_{key}") for key in (*keys, "version")}))


def _taken(external_id: str | None) -> Conflict:
    """A concurrent writer took the external id between the service's check and this
    write (the only unique key an opportunity's columns have)."""
    return Conflict(f"an opportunity with the external id {external_id} exists already")


def _to_domain(row: Sequence[Any]) -> Opportunity:
    values = {key: row[n] for key, n in _DOMAIN_AT}
    values["status"] = Status(values["status"])
    values["probability_source"] = ProbabilitySource(values["probability_source"])
    values["amount_source"] = AmountSource(values["amount_source"])
    sellers = tuple(Seller(user_id, int(share * _HUNDRED)) for user_id, share in zip(
        row[_SELLER_IDS_AT] or (), row[_SELLER_SHARES_AT] or (), strict=True))
    return Opportunity(**values, sellers=sellers)


def _to_row(opportunity: Opportunity) -> dict[str, Any]:
    row = {c.key: getattr(opportunity, c.key) for c in _STORED}
    row["status"] = opportunity.status.value
    row["probability_source"] = opportunity.probability_source.value
    row["amount_source"] = opportunity.amount_source.value
    return row


class OpportunityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, organization_id: int, opportunity_id: int, *,
                  for_update: bool = False, placing: bool = False) -> Opportunity | None:
        """The opportunity; `for_update` locks its row until the transaction ends, and
        `placing` takes the placing lock too (see `hold_stages`), in the same statement,
        for a write that will place it in a stage."""
        found = _GET_FOR_PLACING if placing else _GET_FOR_UPDATE if for_update else _GET
        row = await fetchrow(self._session, found, organization_id=organization_id,
                             id=opportunity_id)
        if row is None:
            return None
        if placing:
            self._session.info[_PLACING_KEY] = self._session.get_transaction()
        return _to_domain(row)

    async def pipeline(self, organization_id: int, process_id: int, *,
                       locked: bool = False) -> SalesProcess | None:
        """A process and its stages as an opportunity's rules need them, in one query:
        without its use count or default-for targets (see SalesProcessRepository.get).
        `locked` for a write that places an opportunity in one of its stages: the
        placing lock is taken first, unless `hold_stages` took it already."""
        if locked:
            await self.hold_stages(organization_id)
        rows = await fetch(self._session, _PIPELINE, organization_id=organization_id,
                           id=process_id)
        return _pipeline_of(rows) if rows else None

    async def pipeline_of_stage(self, organization_id: int, stage_id: int, *,
                                locked: bool = False) -> SalesProcess | None:
        """`pipeline` of the process that has this stage, found in the same query."""
        if locked:
            await self.hold_stages(organization_id)
        rows = await fetch(self._session, _PIPELINE_OF_STAGE,
                           organization_id=organization_id, stage_id=stage_id)
        return _pipeline_of(rows) if rows else None

    async def hold_stages(self, organization_id: int) -> None:
        """Take the placing lock (see `placing_lock`) for the rest of the transaction,
        once. A use case that places an opportunity takes it before it reads any stage:
        a create as its first statement, before it knows its process; a change of one
        opportunity with the row's own lock (`get(..., placing=True)`)."""
        transaction = self._session.get_transaction()
        if transaction is not None and self._session.info.get(_PLACING_KEY) is transaction:
            return
        await self._session.execute(_HOLD_STAGES, {"organization_id": organization_id})
        self._session.info[_PLACING_KEY] = self._session.get_transaction()

    async def id_by_external_id(self, organization_id: int, external_id: str) -> int | None:
        row = await fetchrow(self._session, _BY_EXTERNAL_ID, organization_id=organization_id,
                             external_id=external_id)
        return None if row is None else int(row["id"])

    async def lock_external_id(self, organization_id: int, external_id: str) -> None:
        """Serialise, until the transaction ends, every writer of this external id."""
        await fetchrow(self._session, _LOCK_EXTERNAL_ID, organization_id=organization_id,
                       external_id=external_id)

    async def add(self, opportunity: Opportunity) -> int:
        """Store a new opportunity with its sellers, in one statement; its id."""
        row = {"organization_id": opportunity.organization_id, **_to_row(opportunity)}
        connection = await driver(self._session)
        try:
            new_id: int = await connection.fetchval(
                _INSERT, *(row[key] for key in _INSERTED),
                [s.user_id for s in opportunity.sellers],
                [as_percent(s.share) for s in opportunity.sellers])
        except UniqueViolationError:
            raise _taken(opportunity.external_id) from None
        return new_id

    async def reserve_ids(self, count: int) -> list[int]:
        """Ids for `count` opportunities to be stored by `add_many`."""
        return await reserve_ids(await driver(self._session), "opportunities", count)

    async def add_many(self, new: Sequence[tuple[int, Opportunity]]) -> None:
        """Store new opportunities, each with the id `reserve_ids` gave it, and their
        sellers: one statement a table (repositories/bulk.py). A taken external id fails
        them all."""
        connection = await driver(self._session)
        try:
            await insert_rows(connection, "opportunities", _BULK_COLUMNS, [
                [n.organization_id, new_id, *_to_row(n).values()] for new_id, n in new])
        except UniqueViolationError:
            raise Conflict("an opportunity with one of these external ids exists already"
                           ) from None
        await insert_rows(connection, "opportunity_sellers", _BULK_SELLER_COLUMNS, [
            (n.organization_id, new_id, s.user_id, as_percent(s.share), seq)
            for new_id, n in new for seq, s in enumerate(n.sellers)])

    async def save(self, before: Opportunity, after: Opportunity) -> None:
        """Store what changed; the version moves on by one."""
        old, new = _to_row(before), _to_row(after)
        changed = {f"new_{k}": v for k, v in new.items() if old[k] != v and k != "version"}
        statement = _update_of(tuple(key.removeprefix("new_") for key in changed))
        connection = await driver(self._session)
        try:
            await connection.execute(statement.sql, *statement.args({
                **changed, "new_version": before.version + 1,
                "organization_id": after.organization_id, "id": after.id}))
        except UniqueViolationError:
            raise _taken(after.external_id) from None
        if after.sellers != before.sellers:
            await self._session.execute(delete(_SELLERS).where(
                _SELLERS.c.organization_id == after.organization_id,
                _SELLERS.c.opportunity_id == after.id))
            await self._insert_sellers(after.organization_id, after.id, after.sellers)

    async def delete(self, organization_id: int, ids: Collection[int]) -> None:
        await self._session.execute(delete(o).where(o.c.organization_id == organization_id,
                                                    o.c.id.in_(list(ids))))

    async def lock_many(self, organization_id: int,
                        ids: Collection[int]) -> list[Opportunity]:
        """The opportunities among `ids`, locked for this transaction, with sellers."""
        rows = (await self._session.execute(_SELECT.where(
            o.c.organization_id == organization_id, o.c.id.in_(list(ids))
        ).order_by(o.c.id).with_for_update(of=o))).all()
        return [_to_domain(r) for r in rows]

    async def list(self, organization_id: int, query: ListQuery) -> Page[Opportunity]:
        found, rest = list_filters(organization_id, query)
        stmt = select(o.c.id).where(o.c.organization_id == organization_id, *found)
        return await fetch_page(self._session, stmt, rest, LIST_COLUMNS, o.c.id, _to_domain,
                                rows_of=_SELECT.where(o.c.organization_id == organization_id))

    async def _insert_sellers(self, organization_id: int, opportunity_id: int,
                              sellers: Sequence[Seller]) -> None:
        if sellers:
            await self._session.execute(insert(_SELLERS), [
                {"organization_id": organization_id, "opportunity_id": opportunity_id,
                 "user_id": s.user_id, "share": as_percent(s.share), "added_seq": n}
                for n, s in enumerate(sellers)])


def _pipeline_of(rows: Sequence[Mapping[str, Any]]) -> SalesProcess:
    first = rows[0]
    return SalesProcess(
        id=first["id"], organization_id=first["organization_id"], name=first["name"],
        active=first["active"], note=first["note"], default_for=DefaultFor(),
        stages=tuple(stage_to_domain(SimpleNamespace(**{
            key: r[label] for key, label in _STAGE_LABELS}))
            for r in rows if r["stage_id"] is not None),
        created_at=first["created_at"], created_by=first["created_by"],
        updated_at=first["updated_at"], updated_by=first["updated_by"],
        version=first["version"])


def list_filters(organization_id: int,
                 query: ListQuery) -> tuple[list[ColumnElement[bool]], ListQuery]:
    """The list's filters that are not a column's own (`q`, `seller_id`, `has_order`) as
    SQL, and the query left with the others (its columns' conditions)."""
    found: list[ColumnElement[bool]] = []
    kept: list[Condition] = []
    for condition in query.conditions:
        if condition.field == "q":
            found.append(text_search(organization_id, condition))
        elif condition.field == "seller_id":
            found.append(has_seller(organization_id, condition))
        elif condition.field == "has_order":
            ordered = exists().where(orders.c.organization_id == organization_id,
                                     orders.c.opportunity_id == o.c.id)
            wanted = bool(condition.value) is (condition.op is Op.EQ)
            found.append(ordered if wanted else ~ordered)
        else:
            kept.append(condition)
    return found, replace(query, conditions=tuple(kept))


def text_search(organization_id: int, condition: Condition) -> ColumnElement[bool]:
    """`q`: the pattern over name, description and customer name. The customers matching
    are collected first, so that each branch can use its own (trigram) index."""
    pattern = condition.value
    assert isinstance(pattern, TextPattern)
    like = pattern.like()
    matching_customers = select(func.array_agg(customers.c.id)).where(
        customers.c.organization_id == organization_id,
        customers.c.name.ilike(like, escape="\\")).scalar_subquery()
    return or_(o.c.name.ilike(like, escape="\\"), o.c.description.ilike(like, escape="\\"),
               o.c.customer_id == func.any(func.coalesce(matching_customers, _NO_IDS)))


def has_seller(organization_id: int, condition: Condition) -> ColumnElement[bool]:
    held = exists().where(_SELLERS.c.organization_id == organization_id,
                          _SELLERS.c.opportunity_id == o.c.id,
                          where(replace(condition, op=Op.EQ), _SELLERS.c.user_id))
    return ~held if condition.op is Op.NE else held
