"""What a quote's customer reaches with its link alone (no credentials): the page, its PDF,
the JSON of the same and the three answers.

- An unknown token, or text that cannot be a token, is a bare 404 (no detail: the answer
  says nothing of what exists). An expired or superseded quote is 410 for reads and
  answers alike; an answered one can still be read, and every further answer is 409.
- The page is HTML made on the server, with no script and nothing from another origin,
  under a strict Content-Security-Policy; its forms post without JavaScript and carry a
  CSRF field (an HMAC of the link's token under the service's key), and are answered with
  an HTML page. Pages and PDFs are never cached and send no referrer (the token is in the
  address).
- The answerer's address is the connection's, or the client named by `X-Forwarded-For`
  when the connection comes from one of `SALESCORE_TRUSTED_PROXIES`."""

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Form, Path, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, ValidationError

from salescore.api.deps import AppStateDep, UnitOfWorkDep
from salescore.api.errors import STATUS_OF, problem, problem_responses
from salescore.api.rate_limits import client_address
from salescore.api.routing import Router
from salescore.api.v1.quotes.page import (
    QuotePageView,
    content_security_policy,
    render_confirmation,
    render_quote_page,
)
from salescore.api.v1.quotes.quote_schemas import FrozenLineRead
from salescore.api.v1.schemas import Decimal2, Email, Name, Strict, Text
from salescore.domain.errors import (
    Conflict,
    DomainError,
    FieldError,
    Gone,
    InvalidInput,
    NotFound,
)
from salescore.domain.quotes.quotes import Answer, QuoteStatus
from salescore.domain.quotes.records import Quote
from salescore.services.quotes.answers import Answerer, answer_by_link, open_public_quote
from salescore.services.quotes.rendering import quote_pdf_bytes

router = Router(tags=["public quotes"])
Token = Annotated[str, Path(max_length=100, description="The token of the quote's link.")]
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff"}


class PublicQuoteRead(BaseModel):
    """What the customer sees: never unit costs or margins."""

    seller_name: str
    customer_name: str
    number: str | None
    status: QuoteStatus
    currency: str
    lines: list[FrozenLineRead]
    discount_percent: Decimal2
    lines_total: Decimal2
    discount_amount: Decimal2
    total: Decimal2
    valid_until: date
    note: str | None
    header_text: str | None
    footer_text: str | None
    terms: str | None
    responded_at: datetime | None
    signed_by_name: str | None

    @classmethod
    def of(cls, quote: Quote) -> "PublicQuoteRead":
        content = quote.content
        return cls(seller_name=content["seller_organization_name"],
                   customer_name=content["customer_name"],
                   number=quote.number, status=quote.status, currency=quote.currency,
                   lines=[FrozenLineRead(**line) for line in content["lines"]],
                   discount_percent=quote.discount_percent, lines_total=quote.lines_total,
                   discount_amount=quote.discount_amount, total=quote.total,
                   valid_until=quote.valid_until, note=quote.note,
                   header_text=content.get("header_text"),
                   footer_text=content.get("footer_text"), terms=content.get("terms"),
                   responded_at=quote.responded_at, signed_by_name=quote.signed_by_name)


class SignBody(Strict):
    name: Name
    email: Email


class ChangeBody(Strict):
    comment: Annotated[Text, Field(min_length=1)]
    name: Name | None = None
    email: Email | None = None


class RejectBody(Strict):
    comment: Text | None = None
    name: Name | None = None
    email: Email | None = None


_BODIES: dict[Answer, type[Strict]] = {Answer.SIGNED: SignBody,
                                       Answer.CHANGE_REQUESTED: ChangeBody,
                                       Answer.REJECTED: RejectBody}


class AnswerRead(BaseModel):
    status: QuoteStatus
    responded_at: datetime | None


def _bare_not_found() -> Response:
    response = problem(404)
    response.headers.update(_PRIVATE)
    return response


async def _public_json(call: Callable[[], Awaitable[Response]]) -> Response:
    try:
        return await call()
    except NotFound:
        return _bare_not_found()


def _answerer(request: Request, state: Any, name: str | None, email: str | None) -> Answerer:
    address = client_address(request.scope, state.settings.trusted_proxy_networks())
    return Answerer(name=name, email=email, ip=address or None,
                    user_agent=request.headers.get("user-agent", "")[:500] or None,
                    method="link")


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/v1/public/quotes/{token}", response_model=PublicQuoteRead,
            responses=problem_responses(404, 410))
async def read_public_quote(token: Token, uow: UnitOfWorkDep) -> Response:
    """The quote a link was made for, as JSON, with no credential (the token is one):
    the seller's organization, the lines, totals, valid-until day and status; never unit
    cost or margin. An unknown token is 404; an expired or replaced quote 410."""
    async def call() -> Response:
        quote, _ = await open_public_quote(uow, token=token, now=_now())
        return Response(PublicQuoteRead.of(quote).model_dump_json(),
                        media_type="application/json", headers=_PRIVATE)
    return await _public_json(call)


@router.get("/v1/public/quotes/{token}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "The PDF."},
                       **problem_responses(404, 410)})
async def read_public_quote_pdf(token: Token, uow: UnitOfWorkDep) -> Response:
    """The linked quote as a PDF, with no credential; 404 and 410 as for the JSON."""
    async def call() -> Response:
        quote, _ = await open_public_quote(uow, token=token, now=_now())
        return Response(quote_pdf_bytes(quote), media_type="application/pdf", headers={
            **_PRIVATE, "Content-Disposition": f'inline; filename="{quote.number}.pdf"'})
    return await _public_json(call)


async def _answer_json(request: Request, state: Any, uow: Any, token: str, answer: Answer,
                       name: str | None, email: str | None,
                       comment: str | None) -> Response:
    async def call() -> Response:
        quote = await answer_by_link(uow, token=token, answer=answer,
                                     answerer=_answerer(request, state, name, email),
                                     comment=comment, now=_now())
        body = AnswerRead(status=quote.status, responded_at=quote.responded_at)
        return Response(body.model_dump_json(), media_type="application/json",
                        headers=_PRIVATE)
    return await _public_json(call)


@router.post("/v1/public/quotes/{token}/sign", response_model=AnswerRead,
             responses=problem_responses(404, 409, 410))
async def sign_quote(token: Token, body: SignBody, request: Request, state: AppStateDep,
                     uow: UnitOfWorkDep) -> Response:
    """Sign the quote with a name and e-mail address; once."""
    return await _answer_json(request, state, uow, token, Answer.SIGNED, body.name,
                              body.email, None)


@router.post("/v1/public/quotes/{token}/request-change", response_model=AnswerRead,
             responses=problem_responses(404, 409, 410))
async def request_quote_change(token: Token, body: ChangeBody, request: Request,
                               state: AppStateDep, uow: UnitOfWorkDep) -> Response:
    """Ask for a change, saying what in `comment`; this answers the quote."""
    return await _answer_json(request, state, uow, token, Answer.CHANGE_REQUESTED, body.name,
                              body.email, body.comment)


@router.post("/v1/public/quotes/{token}/reject", response_model=AnswerRead,
             responses=problem_responses(404, 409, 410))
async def reject_quote(token: Token, body: RejectBody, request: Request, state: AppStateDep,
                       uow: UnitOfWorkDep) -> Response:
    """Reject the quote; the opportunity stays open, the sellers are told."""
    return await _answer_json(request, state, uow, token, Answer.REJECTED, body.name,
                              body.email, body.comment)


# The page and its forms.

def csrf_value(secret: str, token: str) -> str:
    return hmac.new(secret.encode(), b"quote-form:" + token.encode(),
                    hashlib.sha256).hexdigest()[:32]


def _html(body: str, nonce: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status_code, headers={
        **_PRIVATE, "Content-Security-Policy": content_security_policy(nonce),
        "X-Frame-Options": "DENY"})


def _page_view(quote: Quote, token: str) -> QuotePageView:
    content = quote.content
    return QuotePageView(
        seller_name=content["seller_organization_name"], customer_name=content["customer_name"],
        number=quote.number, status=quote.status.value, currency=quote.currency,
        lines=tuple(content["lines"]), discount_percent=quote.discount_percent,
        lines_total=quote.lines_total, discount_amount=quote.discount_amount,
        total=quote.total, valid_until=quote.valid_until,
        header_text=content.get("header_text"), footer_text=content.get("footer_text"),
        terms=content.get("terms"), note=quote.note,
        accent_color=content.get("accent_color"),
        pdf_url=f"/v1/public/quotes/{token}/pdf", action_base=f"/q/{token}",
        signed_by_name=quote.signed_by_name, responded_at=quote.responded_at,
        response_comment=quote.response_comment)


# What the customer reads for each error a page answers; any other error (a busy or
# unreachable database, say) is the shared problem+json answer, with its Retry-After.
_PROBLEM_PAGES: dict[type[DomainError], tuple[str, str]] = {
    NotFound: ("Not found", "This link does not lead to a quote. Ask the sender for a new one."),
    Gone: ("No longer open", "This quote can no longer be answered: it has expired or a "
                             "newer quote has replaced it."),
    Conflict: ("Already answered", "This quote has already been answered."),
}


def _problem_page(error: DomainError, nonce: str) -> HTMLResponse:
    page = next((v for t, v in _PROBLEM_PAGES.items() if isinstance(error, t)), None)
    if isinstance(error, InvalidInput):
        page = "Please check the form", "; ".join(
            f"{e.field}: {e.message}" for e in error.errors)
    if page is None:
        raise error
    status = next(s for t, s in STATUS_OF.items() if isinstance(error, t))
    return _html(render_confirmation(*page, nonce=nonce), nonce, status)


def _html_pages(pages: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    return {status: {"content": {"text/html": {}}, "description": description}
            for status, description in pages.items()}


_PAGE = _html_pages({200: "The page.", 404: "No quote has this link (a page saying so).",
                     410: "The quote has expired or been replaced (a page saying so)."})
_FORM_PAGE = _html_pages({
    200: "The confirmation page.", 403: "The form's CSRF field is wrong: open the link again.",
    404: "No quote has this link.", 409: "The quote has been answered already.",
    410: "The quote has expired or been replaced.",
    422: "A field of the form is missing or wrong (a page naming it)."})


@router.get("/q/{token}", response_class=HTMLResponse, responses=_PAGE)
async def read_quote_page(token: Token, state: AppStateDep,
                          uow: UnitOfWorkDep) -> HTMLResponse:
    """The page a customer opens: the quote, its PDF, and the forms to answer it."""
    nonce = secrets.token_urlsafe(16)
    try:
        quote, _ = await open_public_quote(uow, token=token, now=_now())
    except (NotFound, Gone) as error:
        return _problem_page(error, nonce)
    return _html(render_quote_page(_page_view(quote, token),
                                   csrf_token=csrf_value(state.tokens.secret, token),
                                   nonce=nonce), nonce)


FormText = Annotated[str | None, Form(max_length=10_000)]
FormLine = Annotated[str | None, Form(max_length=320)]

_CONFIRMATIONS = {
    Answer.SIGNED: ("Thank you", "The quote is signed. The seller has been told."),
    Answer.CHANGE_REQUESTED: ("Thank you", "Your request for a change has been sent to the "
                                           "seller."),
    Answer.REJECTED: ("Thank you", "The quote is rejected. The seller has been told."),
}


async def _answer_form(request: Request, state: Any, uow: Any, token: str, answer: Answer,
                       fields: dict[str, str | None]) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    given = {k: (v.strip() or None) if v is not None else None for k, v in fields.items()}
    csrf = given.pop("csrf") or ""
    expected = csrf_value(state.tokens.secret, token)
    if not hmac.compare_digest(csrf.encode(), expected.encode()):
        return _html(render_confirmation("The form has expired", "Open the link again and "
                                         "answer from the new page.", nonce=nonce), nonce, 403)
    try:
        _check_form(answer, given)
        await answer_by_link(uow, token=token, answer=answer,
                             answerer=_answerer(request, state, given.get("name"),
                                                given.get("email")),
                             comment=given.get("comment"), now=_now())
    except DomainError as error:
        return _problem_page(error, nonce)
    title, text = _CONFIRMATIONS[answer]
    return _html(render_confirmation(title, text, nonce=nonce), nonce)


def _check_form(answer: Answer, given: dict[str, str | None]) -> None:
    """The form's fields, held to the rules of the JSON answer's body."""
    try:
        _BODIES[answer].model_validate({k: v for k, v in given.items() if v is not None})
    except ValidationError as error:
        raise InvalidInput(*(FieldError(".".join(map(str, e["loc"])) or "body", e["msg"])
                             for e in error.errors())) from None


@router.post("/q/{token}/sign", response_class=HTMLResponse, responses=_FORM_PAGE)
async def sign_quote_by_form(token: Token, request: Request, state: AppStateDep,
                             uow: UnitOfWorkDep, name: FormLine = None, email: FormLine = None,
                             csrf: FormLine = None) -> HTMLResponse:
    """What the customer's page posts to sign (a form, with the page's CSRF field); it
    answers an HTML page, the confirmation or the error in words."""
    return await _answer_form(request, state, uow, token, Answer.SIGNED,
                              {"name": name, "email": email, "csrf": csrf})


@router.post("/q/{token}/request-change", response_class=HTMLResponse, responses=_FORM_PAGE)
async def request_quote_change_by_form(token: Token, request: Request, state: AppStateDep,
                                       uow: UnitOfWorkDep, comment: FormText = None,
                                       name: FormLine = None, email: FormLine = None,
                                       csrf: FormLine = None) -> HTMLResponse:
    """What the customer's page posts to ask for a change, `comment` saying what; it
    answers an HTML page, the confirmation or the error in words."""
    return await _answer_form(request, state, uow, token, Answer.CHANGE_REQUESTED,
                              {"comment": comment, "name": name, "email": email,
                               "csrf": csrf})


@router.post("/q/{token}/reject", response_class=HTMLResponse, responses=_FORM_PAGE)
async def reject_quote_by_form(token: Token, request: Request, state: AppStateDep,
                              uow: UnitOfWorkDep, comment: FormText = None,
                              name: FormLine = None, email: FormLine = None,
                              csrf: FormLine = None) -> HTMLResponse:
    """What the customer's page posts to reject the quote; it answers an HTML page, the
    confirmation or the error in words."""
    return await _answer_form(request, state, uow, token, Answer.REJECTED,
                              {"comment": comment, "name": name, "email": email,
                               "csrf": csrf})
