"""Quote templates."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.errors import Conflict
from salescore.domain.listing import ListQuery, Page
from salescore.domain.quotes.templates import EMAIL_TEXTS, QuoteTemplate
from salescore.repositories.database import FOREIGN_KEY_VIOLATION, unique_or_conflict
from salescore.repositories.listing import fetch_page, where
from salescore.repositories.quotes.models import quote_templates as t
from salescore.repositories.quotes.models import quotes

LIST_COLUMNS: dict[str, ColumnElement[Any]] = {name: t.c[name] for name in (
    "id", "name", "active", "created_at", "updated_at")}
SEARCHED = (t.c.name, t.c.header_text, t.c.footer_text, t.c.terms, t.c.email_subject,
            t.c.email_message)
IN_USE = ("quotes were made with this quote template; it cannot be deleted (deactivate it "
          "instead: set active to false)")


def _to_domain(row: Any) -> QuoteTemplate:
    """A row whose e-mail texts are null (written before they were kept) has the standard
    ones."""
    fields = {c.key: getattr(row, c.key) for c in t.c}
    for field, standard in EMAIL_TEXTS.items():
        if fields[field] is None:
            fields[field] = standard
    return QuoteTemplate(**fields)


def name_taken_detail(name: Any) -> str:
    return f"name: a quote template named {name!r} exists already (names ignore case)"


@asynccontextmanager
async def _referenced() -> AsyncIterator[None]:
    """A quote made with the template (by a request that committed after the check) keeps
    it: the foreign key fk_quotes_template_id_quote_templates refuses the delete."""
    try:
        yield
    except IntegrityError as error:
        if getattr(error.orig, "sqlstate", None) != FOREIGN_KEY_VIOLATION:
            raise
        raise Conflict(IN_USE) from None


class QuoteTemplateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _mine(self, organization_id: int, template_id: int) -> list[ColumnElement[bool]]:
        return [t.c.organization_id == organization_id, t.c.id == template_id]

    async def get(self, organization_id: int, template_id: int) -> QuoteTemplate | None:
        stmt = select(t).where(*self._mine(organization_id, template_id))
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _to_domain(row)

    async def lock(self, organization_id: int, template_id: int) -> None:
        """Hold the row until the transaction ends: a quote being made with the template
        waits for a delete (its foreign key check shares the row), and the other way
        round."""
        await self._session.execute(select(t.c.id).where(
            *self._mine(organization_id, template_id)).with_for_update())

    async def name_taken(self, organization_id: int, name: str,
                         except_id: int | None = None) -> bool:
        """Whether another template has the name, compared as the unique index does."""
        stmt = select(t.c.id).where(t.c.organization_id == organization_id,
                                    func.lower(t.c.name) == func.lower(name),
                                    t.c.id.is_distinct_from(except_id))
        return (await self._session.execute(stmt)).first() is not None

    async def in_use(self, organization_id: int, template_id: int) -> bool:
        """Whether a quote, of any status, was made with the template."""
        stmt = select(exists().where(quotes.c.organization_id == organization_id,
                                     quotes.c.template_id == template_id))
        return bool((await self._session.execute(stmt)).scalar())

    async def list(self, organization_id: int, query: ListQuery) -> Page[QuoteTemplate]:
        """A page of templates; `q` finds its pattern in the name or any of the texts."""
        stmt = select(t).where(t.c.organization_id == organization_id)
        rest = []
        for condition in query.conditions:
            if condition.field == "q":
                stmt = stmt.where(or_(*(where(condition, c) for c in SEARCHED)))
            else:
                rest.append(condition)
        return await fetch_page(self._session, stmt, replace(query, conditions=tuple(rest)),
                                LIST_COLUMNS, t.c.id, _to_domain)

    async def add(self, organization_id: int, values: dict[str, Any]) -> QuoteTemplate:
        stmt = insert(t).values(organization_id=organization_id, **values).returning(*t.c)
        async with unique_or_conflict(name_taken_detail(values.get("name"))):
            return _to_domain((await self._session.execute(stmt)).one())

    async def update(self, organization_id: int, template_id: int,
                     values: dict[str, Any]) -> QuoteTemplate:
        stmt = (update(t).where(*self._mine(organization_id, template_id))
                .values(**values, version=t.c.version + 1, updated_at=func.now())
                .returning(*t.c))
        async with unique_or_conflict(name_taken_detail(values.get("name"))):
            return _to_domain((await self._session.execute(stmt)).one())

    async def delete(self, organization_id: int, template_id: int) -> None:
        async with _referenced():
            await self._session.execute(delete(t).where(
                *self._mine(organization_id, template_id)))
