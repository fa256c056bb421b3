"""Customers and their contacts."""

from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, TypeVar

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    Table,
    Text,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.customers.customers import Contact, Customer, CustomerStatus
from salescore.domain.listing import ListQuery, Page
from salescore.repositories.customers.models import contacts, customers
from salescore.repositories.database import unique_or_conflict
from salescore.repositories.listing import fetch_page, where
from salescore.repositories.prepared import Prepared, fetchrow
from salescore.repositories.sales.models import opportunities


def _columns(table: Table, *names: str) -> dict[str, ColumnElement[Any]]:
    return {name: table.c[name] for name in names}


T = TypeVar("T")
_ORG: BindParameter[int] = bindparam("organization_id")

CUSTOMER_COLUMNS = _columns(customers, "id", "name", "status", "owner_id", "external_id",
                            "org_number", "email", "created_at", "updated_at")
CONTACT_COLUMNS = _columns(contacts, "id", "name", "email", "title", "external_id",
                           "created_at", "updated_at")


def customer_to_domain(row: Any) -> Customer:
    return Customer(id=row.id, organization_id=row.organization_id, name=row.name,
                    org_number=row.org_number, email=row.email, phone=row.phone,
                    status=CustomerStatus(row.status), external_id=row.external_id,
                    owner_id=row.owner_id, created_at=row.created_at,
                    updated_at=row.updated_at, version=row.version)


def contact_to_domain(row: Any) -> Contact:
    return Contact(id=row.id, organization_id=row.organization_id,
                   customer_id=row.customer_id, name=row.name, email=row.email,
                   phone=row.phone, title=row.title, external_id=row.external_id,
                   created_at=row.created_at, updated_at=row.updated_at, version=row.version)


_FIRST: dict[tuple[str, tuple[str, ...]], Prepared] = {}
_HOLD = Prepared.of(select(customers.c.id).where(
    customers.c.organization_id == _ORG, customers.c.id == bindparam("id"),
).with_for_update(read=True, key_share=True))


@lru_cache(maxsize=64)
def _insert_statement(table: Table, keys: tuple[str, ...]) -> Prepared:
    """The INSERT of a record with these columns, returning the row; compiled once."""
    return Prepared.of(insert(table).values(
        {"organization_id": _ORG, **{key: bindparam(key, type_=table.c[key].type)
                                     for key in keys}}).returning(*table.c))


@lru_cache(maxsize=4)
def _locks_statement(count: int) -> Prepared:
    """Transaction-level advisory locks on `count` text keys, taken from left to right."""
    return Prepared.of(select(*(func.pg_advisory_xact_lock(func.hashtextextended(
        bindparam(f"key_{n}", type_=Text), 0)).label(f"lock_{n}") for n in range(count))))


@lru_cache(maxsize=4)
def _taken_statement(table: Table) -> Prepared:
    t = table
    return Prepared.of(select(t.c.id).where(
        t.c.organization_id == _ORG, t.c.external_id == bindparam("external_id"),
        t.c.id.is_distinct_from(bindparam("except_id"))).limit(1))


def _first_statement(records: type["_Records"], names: tuple[str, ...]) -> Prepared:
    """`_Records._first_of`'s statement for these lookups, compiled once."""
    key = (records.table.name, names)
    if key not in _FIRST:
        t = records.table
        lookups = [records.lookup(name) for name in names]
        first = (lookups[0] if len(lookups) == 1 else union_all(*lookups)).limit(1)
        _FIRST[key] = Prepared.of(select(t).where(
            t.c.organization_id == _ORG, t.c.id == first.scalar_subquery(),
        ).with_for_update(read=True, key_share=True))
    return _FIRST[key]


class _Records:
    """What customers and contacts share: one tenant table keyed by id, versioned, with an
    external id unique in the organization."""

    table: Table
    label: str
    columns: dict[str, ColumnElement[Any]]  # what lists filter and sort by
    searched: tuple[ColumnElement[Any], ...]  # where `q` looks

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _mine(self, organization_id: int) -> ColumnElement[bool]:
        return self.table.c.organization_id == organization_id

    def _taken(self, external_id: Any) -> str:
        return f"a {self.label} with the external id {external_id!r} exists already"

    async def _one(self, stmt: Select[Any]) -> Any:
        return (await self._session.execute(stmt)).one_or_none()

    async def _get(self, organization_id: int, record_id: int) -> Any:
        t = self.table
        return await self._one(select(t).where(self._mine(organization_id), t.c.id == record_id))

    async def _by_external_id(self, organization_id: int, external_id: str) -> Any:
        """The record with `external_id`, its row held until the transaction ends."""
        t = self.table
        return await self._one(select(t).where(
            self._mine(organization_id), t.c.external_id == external_id).with_for_update())

    async def lock(self, organization_id: int, record_id: int) -> None:
        """Hold the row until the transaction ends (see UserRepository.lock)."""
        t = self.table
        await self._session.execute(select(t.c.id).where(
            self._mine(organization_id), t.c.id == record_id).with_for_update())

    async def lock_keys(self, organization_id: int, keys: dict[str, str | None]) -> None:
        """Serialise, until the transaction ends, every writer that looks a record up by
        these values of their columns (an external id, an organization number) to create
        it when there is none: a lock on each value given, taken in the order given, in
        one statement."""
        given = [f"{self.table.name}.{column}:{organization_id}:{value}"
                 for column, value in keys.items() if value is not None]
        if given:
            await fetchrow(self._session, _locks_statement(len(given)),
                           **{f"key_{n}": key for n, key in enumerate(given)})

    @classmethod
    def lookup(cls, name: str) -> Select[Any]:
        """The query of the id of the record that `name`'s lookup finds (see `_first_of`)."""
        raise NotImplementedError

    async def _first_of(self, organization_id: int, names: tuple[str, ...],
                        **values: Any) -> Any:
        """The record of the first lookup of `names` (see `lookup`) that finds one, held
        until the transaction ends as a record that is referred to is (FOR KEY SHARE: it
        cannot be deleted, nor its key changed); None when none does. One round trip."""
        if not names:
            return None
        row = await fetchrow(self._session, _first_statement(type(self), names),
                             organization_id=organization_id, **values)
        return None if row is None else SimpleNamespace(**row)

    async def external_id_taken(self, organization_id: int, external_id: str,
                                except_id: int | None = None) -> bool:
        found = await fetchrow(self._session, _taken_statement(self.table),
                               organization_id=organization_id, external_id=external_id,
                               except_id=except_id)
        return found is not None

    async def _in_use(self, organization_id: int, column: ColumnElement[Any],
                      record_id: int) -> bool:
        stmt = select(exists().where(opportunities.c.organization_id == organization_id,
                                     column == record_id))
        return bool((await self._session.execute(stmt)).scalar())

    async def _add(self, organization_id: int, values: dict[str, Any]) -> Any:
        statement = _insert_statement(self.table, tuple(sorted(values)))
        async with unique_or_conflict(self._taken(values.get("external_id"))):
            row = await fetchrow(self._session, statement, organization_id=organization_id,
                                 **values)
        assert row is not None, "an INSERT ... RETURNING returns its row"
        return SimpleNamespace(**row)

    async def _add_if_absent(self, organization_id: int, values: dict[str, Any]) -> Any:
        """Insert unless a record with the same external id exists (waiting for a writer
        still busy with one); None when one does."""
        t = self.table
        stmt = (insert(t).values(organization_id=organization_id, **values)
                .on_conflict_do_nothing(index_elements=[t.c.organization_id, t.c.external_id])
                .returning(*t.c))
        return (await self._session.execute(stmt)).one_or_none()

    async def _update(self, organization_id: int, record_id: int,
                      values: dict[str, Any]) -> Any:
        t = self.table
        stmt = (update(t).where(self._mine(organization_id), t.c.id == record_id)
                .values(**values, version=t.c.version + 1, updated_at=func.now())
                .returning(*t.c))
        async with unique_or_conflict(self._taken(values.get("external_id"))):
            return (await self._session.execute(stmt)).one()

    @classmethod
    def search(cls, query: ListQuery) -> tuple[list[ColumnElement[bool]], ListQuery]:
        """`q` as SQL (its pattern in any of the searched columns), and the query left
        with the other conditions."""
        found: list[ColumnElement[bool]] = []
        rest = []
        for condition in query.conditions:
            if condition.field == "q":
                found.append(or_(*(where(condition, c) for c in cls.searched)))
            else:
                rest.append(condition)
        return found, replace(query, conditions=tuple(rest))

    async def _page(self, stmt: Select[Any], query: ListQuery,
                    to_domain: Callable[[Any], T]) -> Page[T]:
        """A page of `stmt`, where `q` finds its pattern in any of the searched columns."""
        found, rest = self.search(query)
        return await fetch_page(self._session, stmt.where(*found), rest, self.columns,
                                self.table.c.id, to_domain)

    async def delete(self, organization_id: int, record_id: int) -> None:
        t = self.table
        await self._session.execute(delete(t).where(self._mine(organization_id),
                                                    t.c.id == record_id))


class CustomerRepository(_Records):
    table = customers
    label = "customer"
    columns = CUSTOMER_COLUMNS
    searched = (customers.c.name, customers.c.org_number, customers.c.email)

    async def get(self, organization_id: int, customer_id: int) -> Customer | None:
        row = await self._get(organization_id, customer_id)
        return None if row is None else customer_to_domain(row)

    async def hold(self, organization_id: int, customer_id: int) -> bool:
        """Whether the customer exists; if so it cannot be deleted before the transaction
        ends (a share lock on its key, as adding a contact to it takes anyway)."""
        return await fetchrow(self._session, _HOLD, organization_id=organization_id,
                              id=customer_id) is not None

    async def get_by_external_id(self, organization_id: int,
                                 external_id: str) -> Customer | None:
        row = await self._by_external_id(organization_id, external_id)
        return None if row is None else customer_to_domain(row)

    async def matching(self, organization_id: int, *, external_id: str | None,
                       org_number: str | None) -> Customer | None:
        """The customer with `external_id`, else the earliest with `org_number`; held as
        `_first_of` holds it."""
        given = {"external_id": external_id, "org_number": org_number}
        row = await self._first_of(
            organization_id, tuple(name for name, value in given.items() if value is not None),
            **given)
        return None if row is None else customer_to_domain(row)

    @classmethod
    def lookup(cls, name: str) -> Select[Any]:
        c = customers.c
        if name == "external_id":
            return select(c.id).where(c.organization_id == _ORG,
                                      c.external_id == bindparam("external_id"))
        return select(c.id).where(c.organization_id == _ORG,
                                  c.org_number == bindparam("org_number")
                                  ).order_by(c.id).limit(1)

    async def in_use(self, organization_id: int, customer_id: int) -> bool:
        """Whether an opportunity is with the customer."""
        return await self._in_use(organization_id, opportunities.c.customer_id, customer_id)

    async def list(self, organization_id: int, query: ListQuery) -> Page[Customer]:
        stmt = select(customers).where(self._mine(organization_id))
        return await self._page(stmt, query, customer_to_domain)

    async def add(self, organization_id: int, values: dict[str, Any]) -> Customer:
        return customer_to_domain(await self._add(organization_id, values))

    async def add_if_absent(self, organization_id: int,
                            values: dict[str, Any]) -> Customer | None:
        row = await self._add_if_absent(organization_id, values)
        return None if row is None else customer_to_domain(row)

    async def update(self, organization_id: int, customer_id: int,
                     values: dict[str, Any]) -> Customer:
        return customer_to_domain(await self._update(organization_id, customer_id, values))


class ContactRepository(_Records):
    table = contacts
    label = "contact"
    columns = CONTACT_COLUMNS
    searched = (contacts.c.name, contacts.c.email, contacts.c.title)

    async def get(self, organization_id: int, contact_id: int) -> Contact | None:
        row = await self._get(organization_id, contact_id)
        return None if row is None else contact_to_domain(row)

    async def get_by_external_id(self, organization_id: int,
                                 external_id: str) -> Contact | None:
        row = await self._by_external_id(organization_id, external_id)
        return None if row is None else contact_to_domain(row)

    async def matching(self, organization_id: int, *, customer_id: int,
                       external_id: str | None, email: str | None) -> Contact | None:
        """The contact with `external_id` (whichever customer it is of), else the
        customer's earliest contact with `email`, whatever its case; held as `_first_of`
        holds it."""
        given = {"external_id": external_id, "email": email}
        row = await self._first_of(
            organization_id, tuple(name for name, value in given.items() if value is not None),
            **given, customer_id=customer_id)
        return None if row is None else contact_to_domain(row)

    @classmethod
    def lookup(cls, name: str) -> Select[Any]:
        c = contacts.c
        if name == "external_id":
            return select(c.id).where(c.organization_id == _ORG,
                                      c.external_id == bindparam("external_id"))
        return select(c.id).where(
            c.organization_id == _ORG, c.customer_id == bindparam("customer_id"),
            func.lower(c.email) == func.lower(bindparam("email", type_=Text))
        ).order_by(c.id).limit(1)

    async def in_use(self, organization_id: int, contact_id: int) -> bool:
        """Whether an opportunity names the contact."""
        return await self._in_use(organization_id, opportunities.c.contact_id, contact_id)

    async def delete_of_customer(self, organization_id: int,
                                 customer_id: int) -> list[Contact]:
        """Delete the customer's contacts; what they were, in id order."""
        stmt = delete(contacts).where(self._mine(organization_id),
                                      contacts.c.customer_id == customer_id
                                      ).returning(*contacts.c)
        rows = (await self._session.execute(stmt)).all()
        return sorted((contact_to_domain(row) for row in rows), key=lambda c: c.id)

    async def list(self, organization_id: int, customer_id: int,
                   query: ListQuery) -> Page[Contact]:
        stmt = select(contacts).where(self._mine(organization_id),
                                      contacts.c.customer_id == customer_id)
        return await self._page(stmt, query, contact_to_domain)

    async def add(self, organization_id: int, values: dict[str, Any]) -> Contact:
        return contact_to_domain(await self._add(organization_id, values))

    async def add_if_absent(self, organization_id: int,
                            values: dict[str, Any]) -> Contact | None:
        row = await self._add_if_absent(organization_id, values)
        return None if row is None else contact_to_domain(row)

    async def update(self, organization_id: int, contact_id: int,
                     values: dict[str, Any]) -> Contact:
        return contact_to_domain(await self._update(organization_id, contact_id, values))
