"""Quote templates."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Response, status

from salescore.api.deps import AppStateDep, CallerDep, IfMatchDep, UnitOfWorkDep, etag
from salescore.api.errors import problem_responses
from salescore.api.listing import Filter, ListRequest, PageOf, list_parameters, page_response
from salescore.api.routing import Router
from salescore.api.v1.quotes.template_schemas import (
    QuoteTemplateCreate,
    QuoteTemplateRead,
    QuoteTemplateUpdate,
)
from salescore.api.v1.schemas import Id
from salescore.services.quotes import templates

router = Router(prefix="/v1/quote-templates", tags=["quote templates"])
TemplateList = Annotated[ListRequest, Depends(list_parameters("quote_templates", [
    Filter("q", str, pattern=True), Filter("name", str, pattern=True), Filter("active", bool),
    Filter("id", int, ranges=True),
    Filter("created_at", datetime, ranges=True), Filter("updated_at", datetime, ranges=True),
], sorts=("id", "name", "created_at", "updated_at")))]


@router.get("", response_model=PageOf[QuoteTemplateRead])
async def list_quote_templates(caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                               request: TemplateList) -> Response:
    """`q` looks in the name and every text; `name` takes the same patterns."""
    page = await templates.list_templates(uow, caller=caller, query=request.query)
    return page_response(state, request, page, QuoteTemplateRead.of)


@router.post("", response_model=QuoteTemplateRead, status_code=status.HTTP_201_CREATED,
             responses=problem_responses(409))
async def create_quote_template(body: QuoteTemplateCreate, caller: CallerDep,
                                uow: UnitOfWorkDep, response: Response) -> QuoteTemplateRead:
    """A new template; a name another template has (whatever its case) is 409."""
    template = await templates.create_template(uow, caller=caller,
                                               values=body.model_dump())
    response.headers["ETag"] = etag(template.version)
    response.headers["Location"] = f"/v1/quote-templates/{template.id}"
    return QuoteTemplateRead.of(template)


@router.get("/{template_id}", response_model=QuoteTemplateRead,
            responses=problem_responses(404))
async def read_quote_template(template_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                              response: Response) -> QuoteTemplateRead:
    """One quote template with its texts and colour, and its ETag for a later
    `If-Match`."""
    template = await templates.get_template(uow, caller=caller, template_id=template_id)
    response.headers["ETag"] = etag(template.version)
    return QuoteTemplateRead.of(template)


@router.patch("/{template_id}", response_model=QuoteTemplateRead,
              responses=problem_responses(404, 409, 412))
async def update_quote_template(template_id: Id, body: QuoteTemplateUpdate,
                                caller: CallerDep, uow: UnitOfWorkDep, if_match: IfMatchDep,
                                response: Response) -> QuoteTemplateRead:
    """Change the fields given; `null` clears the texts and the colour, and gives the
    e-mail texts back their standard wording. Quotes already made keep their texts."""
    template = await templates.update_template(uow, caller=caller, template_id=template_id,
                                               values=body.changes(), if_match=if_match)
    response.headers["ETag"] = etag(template.version)
    return QuoteTemplateRead.of(template)


@router.delete("/{template_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(404, 409, 412))
async def delete_quote_template(template_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                                if_match: IfMatchDep) -> None:
    """Remove a template no quote was made with (409 otherwise: deactivate it)."""
    await templates.delete_template(uow, caller=caller, template_id=template_id,
                                    if_match=if_match)
