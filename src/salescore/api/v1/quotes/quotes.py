"""Quotes of an opportunity: drafts, sending, the PDF, e-mails and the documents signing
leaves."""

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Body, Depends, Response, status

from salescore.api.deps import AppStateDep, CallerDep, IfMatchDep, UnitOfWorkDep, etag
from salescore.api.errors import problem_responses
from salescore.api.listing import Filter, ListRequest, PageOf, list_parameters, page_response
from salescore.api.routing import Router
from salescore.api.v1.quotes.quote_schemas import (
    DocumentRead,
    EmailRequest,
    QuoteCreate,
    QuoteEmailRead,
    QuoteRead,
    QuoteUpdate,
    SendRequest,
    SentQuoteRead,
)
from salescore.api.v1.schemas import Id
from salescore.domain.quotes.quotes import QuoteStatus
from salescore.domain.quotes.records import Quote
from salescore.services.quotes import quotes
from salescore.services.quotes.mail import EmailOrder

router = Router(tags=["quotes"])
PDF = "application/pdf"
_FILTERS = [Filter("id", int, ranges=True), Filter("customer_id", int),
            Filter("status", QuoteStatus), Filter("number", str),
            Filter("valid_until", date, ranges=True),
            Filter("created_at", datetime, ranges=True),
            Filter("updated_at", datetime, ranges=True)]
_SORTS = ("id", "valid_until", "created_at", "updated_at")
QuoteList = Annotated[ListRequest, Depends(list_parameters(
    "quotes", [*_FILTERS, Filter("opportunity_id", int)], sorts=_SORTS))]
OpportunityQuoteList = Annotated[ListRequest, Depends(list_parameters(
    "opportunity quotes", _FILTERS, sorts=_SORTS))]
_PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {PDF: {}}, "description": "The quote as a PDF."}}


def _order(request: EmailRequest | None, sender: str) -> EmailOrder | None:
    if request is None:
        return None
    return EmailOrder(to=tuple(request.to), cc=tuple(request.cc), subject=request.subject,
                      message=request.message, sender=sender)


def _answer(quote: Quote, response: Response) -> QuoteRead:
    response.headers["ETag"] = etag(quote.version)
    return QuoteRead.of(quote)


@router.post("/v1/opportunities/{opportunity_id}/quotes", response_model=QuoteRead,
             status_code=status.HTTP_201_CREATED, responses=problem_responses(404, 409))
async def create_quote(opportunity_id: Id, body: QuoteCreate, caller: CallerDep,
                       uow: UnitOfWorkDep, response: Response) -> QuoteRead:
    """A draft from the opportunity's current lines, its offer discount and the template's
    texts; they are frozen in the quote from now on."""
    quote = await quotes.create_quote(uow, caller=caller, opportunity_id=opportunity_id,
                                      **body.model_dump())
    response.headers["Location"] = f"/v1/quotes/{quote.id}"
    return _answer(quote, response)


@router.get("/v1/opportunities/{opportunity_id}/quotes", response_model=PageOf[QuoteRead],
            responses=problem_responses(404))
async def list_opportunity_quotes(opportunity_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                                  state: AppStateDep, request: OpportunityQuoteList) -> Response:
    """The quotes made for one opportunity, with the filters of `GET /v1/quotes`."""
    page = await quotes.list_quotes(uow, caller=caller, query=request.query,
                                    opportunity_id=opportunity_id)
    return page_response(state, request, page, QuoteRead.of)


@router.get("/v1/quotes", response_model=PageOf[QuoteRead])
async def list_quotes(caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                      request: QuoteList) -> Response:
    """`status` filters by the status a reader sees: `expired` finds the sent quotes whose
    valid-until day has ended, `sent` only those still valid."""
    page = await quotes.list_quotes(uow, caller=caller, query=request.query)
    return page_response(state, request, page, QuoteRead.of)


@router.get("/v1/quotes/{quote_id}", response_model=QuoteRead, responses=problem_responses(404))
async def read_quote(quote_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                     response: Response) -> QuoteRead:
    """One quote with its frozen lines and totals, in its effective status (a sent quote
    whose valid-until day has ended reads as `expired`), and its ETag."""
    return _answer(await quotes.get_quote(uow, caller=caller, quote_id=quote_id), response)


@router.patch("/v1/quotes/{quote_id}", response_model=QuoteRead,
              responses=problem_responses(404, 409, 412))
async def update_quote(quote_id: Id, body: QuoteUpdate, caller: CallerDep, uow: UnitOfWorkDep,
                       if_match: IfMatchDep, response: Response) -> QuoteRead:
    """Only a draft (409 otherwise)."""
    quote = await quotes.update_quote(uow, caller=caller, quote_id=quote_id,
                                      values=body.changes(), if_match=if_match)
    return _answer(quote, response)


@router.delete("/v1/quotes/{quote_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(404, 409, 412))
async def delete_quote(quote_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                       if_match: IfMatchDep) -> None:
    """Only a draft (409 otherwise)."""
    await quotes.delete_quote(uow, caller=caller, quote_id=quote_id, if_match=if_match)


@router.post("/v1/quotes/{quote_id}/send", response_model=SentQuoteRead,
             responses=problem_responses(404, 409, 412))
async def send_quote(quote_id: Id, caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                     if_match: IfMatchDep, response: Response,
                     body: Annotated[SendRequest | None, Body()] = None) -> SentQuoteRead:
    """Number the draft, make its public link (in this answer only) and supersede the
    opportunity's other unanswered quotes; with `email`, also queue the e-mail with the
    link and the PDF."""
    settings = state.settings
    quote, url = await quotes.send_quote(
        uow, caller=caller, quote_id=quote_id, public_base=settings.public_base(),
        email=_order(body.email if body else None, settings.mail_from), if_match=if_match)
    response.headers["ETag"] = etag(quote.version)
    return SentQuoteRead(**QuoteRead.of(quote).model_dump(), public_url=url)


@router.post("/v1/quotes/{quote_id}/link", response_model=SentQuoteRead,
             responses=problem_responses(404, 409, 410))
async def renew_quote_link(quote_id: Id, caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                     response: Response,
                     body: Annotated[SendRequest | None, Body()] = None) -> SentQuoteRead:
    """A new public link for a sent, unanswered quote; the old link answers 404 from now."""
    settings = state.settings
    quote, url = await quotes.renew_link(
        uow, caller=caller, quote_id=quote_id, public_base=settings.public_base(),
        email=_order(body.email if body else None, settings.mail_from))
    response.headers["ETag"] = etag(quote.version)
    return SentQuoteRead(**QuoteRead.of(quote).model_dump(), public_url=url)


@router.get("/v1/quotes/{quote_id}/pdf", response_class=Response,
            responses={**_PDF_RESPONSE, **problem_responses(404)})
async def read_quote_pdf(quote_id: Id, caller: CallerDep, uow: UnitOfWorkDep) -> Response:
    """The quote as the customer gets it, as a PDF; a draft's is marked DRAFT."""
    quote, pdf = await quotes.quote_pdf(uow, caller=caller, quote_id=quote_id)
    name = quote.number or f"quote-{quote.id}-draft"
    return Response(pdf, media_type=PDF,
                    headers={"Content-Disposition": f'inline; filename="{name}.pdf"'})


@router.get("/v1/quotes/{quote_id}/emails", response_model=PageOf[QuoteEmailRead],
            responses=problem_responses(404))
async def list_quote_emails(quote_id: Id, caller: CallerDep,
                            uow: UnitOfWorkDep) -> PageOf[QuoteEmailRead]:
    """Every e-mail of the quote, oldest first, on one page."""
    emails = await quotes.quote_emails(uow, caller=caller, quote_id=quote_id)
    return PageOf[QuoteEmailRead](data=[QuoteEmailRead.of(e) for e in emails],
                                  next_cursor=None)


@router.get("/v1/opportunities/{opportunity_id}/documents",
            response_model=PageOf[DocumentRead], responses=problem_responses(404))
async def list_opportunity_documents(opportunity_id: Id, caller: CallerDep,
                                     uow: UnitOfWorkDep) -> PageOf[DocumentRead]:
    """The opportunity's documents (signed quotes), oldest first, on one page."""
    found = await quotes.opportunity_documents(uow, caller=caller,
                                               opportunity_id=opportunity_id)
    return PageOf[DocumentRead](data=[DocumentRead.of(d) for d in found], next_cursor=None)


@router.get("/v1/documents/{document_id}/content", response_class=Response,
            responses={200: {"content": {PDF: {}}, "description": "The document's bytes."},
                       **problem_responses(404)})
async def read_document_content(document_id: Id, caller: CallerDep,
                                uow: UnitOfWorkDep) -> Response:
    """The document's bytes as stored (a signed quote's PDF), as an attachment; the ETag
    is their SHA-256, as `sha256` in the document list."""
    document, content = await quotes.document_content(uow, caller=caller,
                                                      document_id=document_id)
    return Response(content, media_type=document.content_type, headers={
        "Content-Disposition": f'attachment; filename="{document.file_name}"',
        "ETag": f'"{document.sha256}"'})
