"""Quote templates: the texts, colour and standard e-mail a quote is made and sent with.

Admins and managers (`sales_setup:write`) keep them, as the rest of the sales setup;
everyone who reads quotes (`quotes:read`) reads them. Names are unique in the organization
whatever their case. A template any quote was made with cannot be deleted: deactivate it
instead, so that it is offered for new quotes no more and the quotes keep it."""

from typing import Any

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import Conflict, NotFound, check_version
from salescore.domain.events import unchanged
from salescore.domain.listing import ListQuery, Page
from salescore.domain.quotes.templates import (
    QuoteTemplate,
    check_template_values,
    created_event,
    deleted_event,
    updated_event,
)
from salescore.repositories.quotes.templates import IN_USE, name_taken_detail
from salescore.repositories.unit_of_work import UnitOfWork


async def _check_name_free(uow: UnitOfWork, organization_id: int, values: dict[str, Any],
                           except_id: int | None = None) -> None:
    name = values.get("name")
    if name is not None and await uow.quote_templates.name_taken(organization_id, name,
                                                                 except_id):
        raise Conflict(name_taken_detail(name))


async def create_template(uow: UnitOfWork, *, caller: Caller,
                          values: dict[str, Any]) -> QuoteTemplate:
    """A new template, active unless told otherwise, with the standard e-mail texts where
    it gives none."""
    require(caller, Scope.SALES_SETUP_WRITE)
    values = check_template_values({"active": True, "email_subject": None,
                                    "email_message": None, **values})
    org = caller.organization_id
    async with uow:
        await _check_name_free(uow, org, values)
        template = await uow.quote_templates.add(org, {
            **values, "created_by": caller.user_id, "updated_by": caller.user_id})
        uow.emit(org, caller.actor, created_event(template))
        await uow.commit()
    return template


async def get_template(uow: UnitOfWork, *, caller: Caller,
                       template_id: int) -> QuoteTemplate:
    require(caller, Scope.QUOTES_READ)
    async with uow.reading():
        template = await uow.quote_templates.get(caller.organization_id, template_id)
    if template is None:
        raise NotFound("quote template")
    return template


async def list_templates(uow: UnitOfWork, *, caller: Caller,
                         query: ListQuery) -> Page[QuoteTemplate]:
    require(caller, Scope.QUOTES_READ)
    async with uow:
        return await uow.quote_templates.list(caller.organization_id, query)


async def update_template(uow: UnitOfWork, *, caller: Caller, template_id: int,
                          values: dict[str, Any],
                          if_match: int | None = None) -> QuoteTemplate:
    """Change the fields given; a new name must be free. Quotes already made keep the
    texts they copied."""
    require(caller, Scope.SALES_SETUP_WRITE)
    values = check_template_values(values)
    org = caller.organization_id
    async with uow:
        await uow.quote_templates.lock(org, template_id)
        before = await uow.quote_templates.get(org, template_id)
        if before is None:
            raise NotFound("quote template")
        check_version(before.version, if_match)
        await _check_name_free(uow, org, values, template_id)
        after = await uow.quote_templates.update(org, template_id,
                                                 {**values, "updated_by": caller.user_id})
        if unchanged(before, after):
            return before  # nothing to keep: leaving uncommitted rolls the version back
        uow.emit(org, caller.actor, updated_event(before, after))
        await uow.commit()
    return after


async def delete_template(uow: UnitOfWork, *, caller: Caller, template_id: int,
                          if_match: int | None = None) -> None:
    """Remove a template no quote was made with (409 otherwise: deactivate it)."""
    require(caller, Scope.SALES_SETUP_WRITE)
    org = caller.organization_id
    async with uow:
        await uow.quote_templates.lock(org, template_id)
        template = await uow.quote_templates.get(org, template_id)
        if template is None:
            raise NotFound("quote template")
        check_version(template.version, if_match)
        if await uow.quote_templates.in_use(org, template_id):
            raise Conflict(IN_USE)
        await uow.quote_templates.delete(org, template_id)
        uow.emit(org, caller.actor, deleted_event(template))
        await uow.commit()
