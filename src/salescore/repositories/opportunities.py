"""Opportunities and their sellers."""

from collections.abc import Collection, Sequence
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
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

from salescore.domain.listing import Condition, ListQuery, Op, Page
from salescore.domain.opportunities import Opportunity, ProbabilitySource, Status
from salescore.domain.patterns import TextPattern
from salescore.domain.pipeline import DefaultFor, SalesProcess
from salescore.domain.shares import Seller, as_percent
from salescore.repositories.database import unique_or_conflict
from salescore.repositories.listing import fetch_page, where
from salescore.repositories.sales_models import (
    customers,
    opportunity_sellers,
    stages,
)
from salescore.repositories.sales_models import opportunities as o
from salescore.repositories.sales_models import sales_processes as processes
from salescore.repositories.sales_processes import stage_to_domain

_SELLERS = opportunity_sellers
_STORED = [c for c in o.c if c.key not in {"id", "organization_id", "weighted_amount"}]
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


def _to_domain(row: Any) -> Opportunity:
    values = {c.key: getattr(row, c.key) for c in o.c if c.key != "weighted_amount"}
    values["status"] = Status(values["status"])
    values["probability_source"] = ProbabilitySource(values["probability_source"])
    sellers = tuple(Seller(user_id, int(share * _HUNDRED)) for user_id, share in zip(
        row.seller_ids or (), row.seller_shares or (), strict=True))
    return Opportunity(**values, sellers=sellers)


def _to_row(opportunity: Opportunity) -> dict[str, Any]:
    row = {c.key: getattr(opportunity, c.key) for c in _STORED}
    row["status"] = opportunity.status.value
    row["probability_source"] = opportunity.probability_source.value
    return row


class OpportunityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, organization_id: int, opportunity_id: int, *,
                  for_update: bool = False) -> Opportunity | None:
        stmt = _SELECT.where(o.c.organization_id == organization_id, o.c.id == opportunity_id)
        if for_update:
            stmt = stmt.with_for_update(of=o)
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _to_domain(row)

    async def pipeline(self, organization_id: int, process_id: int) -> SalesProcess | None:
        """A process and its stages as an opportunity's rules need them, in one query:
        without its use count or default-for targets (see SalesProcessRepository.get)."""
        rows = (await self._session.execute(
            select(processes, *(c.label(f"stage_{c.key}") for c in stages.c))
            .join(stages, (stages.c.organization_id == processes.c.organization_id)
                  & (stages.c.sales_process_id == processes.c.id), isouter=True)
            .where(processes.c.organization_id == organization_id,
                   processes.c.id == process_id)
            .order_by(stages.c.position))).all()
        if not rows:
            return None
        first = rows[0]
        return SalesProcess(
            id=first.id, organization_id=first.organization_id, name=first.name,
            active=first.active, note=first.note, default_for=DefaultFor(),
            stages=tuple(stage_to_domain(SimpleNamespace(**{
                c.key: getattr(r, f"stage_{c.key}") for c in stages.c}))
                for r in rows if r.stage_id is not None),
            created_at=first.created_at, created_by=first.created_by,
            updated_at=first.updated_at, updated_by=first.updated_by, version=first.version)

    async def id_by_external_id(self, organization_id: int, external_id: str) -> int | None:
        stmt = select(o.c.id).where(o.c.organization_id == organization_id,
                                    o.c.external_id == external_id)
        found: int | None = (await self._session.execute(stmt)).scalar_one_or_none()
        return found

    async def lock_external_id(self, organization_id: int, external_id: str) -> None:
        """Serialise, until the transaction ends, every writer of this external id."""
        key = func.hashtextextended(func.concat(organization_id, ":", external_id), 0)
        await self._session.execute(select(func.pg_advisory_xact_lock(key)))

    async def add(self, opportunity: Opportunity) -> int:
        stmt = insert(o).values(organization_id=opportunity.organization_id,
                                **_to_row(opportunity)).returning(o.c.id)
        async with unique_or_conflict(f"an opportunity with the external id "
                                      f"{opportunity.external_id} exists already"):
            new_id: int = (await self._session.execute(stmt)).scalar_one()
        await self._insert_sellers(opportunity.organization_id, new_id, opportunity.sellers)
        return new_id

    async def save(self, before: Opportunity, after: Opportunity) -> None:
        """Store what changed; the version moves on by one."""
        old, new = _to_row(before), _to_row(after)
        changed = {k: v for k, v in new.items() if old[k] != v}
        changed.pop("version", None)
        async with unique_or_conflict(f"an opportunity with the external id "
                                      f"{after.external_id} exists already"):
            await self._session.execute(update(o).where(
                o.c.organization_id == after.organization_id, o.c.id == after.id,
            ).values(**changed, version=before.version + 1))
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
        stmt = _SELECT.where(o.c.organization_id == organization_id)
        kept: list[Condition] = []
        for condition in query.conditions:
            if condition.field == "q":
                stmt = stmt.where(_text_search(organization_id, condition))
            elif condition.field == "seller_id":
                stmt = stmt.where(_has_seller(organization_id, condition))
            else:
                kept.append(condition)
        return await fetch_page(self._session, stmt, replace(query, conditions=tuple(kept)),
                                LIST_COLUMNS, o.c.id, _to_domain)

    async def _insert_sellers(self, organization_id: int, opportunity_id: int,
                              sellers: Sequence[Seller]) -> None:
        if sellers:
            await self._session.execute(insert(_SELLERS), [
                {"organization_id": organization_id, "opportunity_id": opportunity_id,
                 "user_id": s.user_id, "share": as_percent(s.share), "added_seq": n}
                for n, s in enumerate(sellers)])


def _text_search(organization_id: int, condition: Condition) -> ColumnElement[bool]:
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


def _has_seller(organization_id: int, condition: Condition) -> ColumnElement[bool]:
    held = exists().where(_SELLERS.c.organization_id == organization_id,
                          _SELLERS.c.opportunity_id == o.c.id,
                          where(replace(condition, op=Op.EQ), _SELLERS.c.user_id))
    return ~held if condition.op is Op.NE else held
