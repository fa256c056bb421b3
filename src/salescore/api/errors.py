"""RFC 9457 problem details for every error the service gives, and their OpenAPI entries.

One table maps each domain error to a status; framework errors (unknown route, wrong
method, validation, a body of a Content-Type its route does not read, oversized body)
and unexpected failures are rendered the same way. A 500 says nothing of its cause: the
trace goes to the log, under the request id."""

import email.message
import logging
from collections.abc import Callable, Collection
from http import HTTPStatus
from typing import Any, TypeVar

from fastapi import FastAPI, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from salescore.api.routing import allow_header, resources
from salescore.domain.errors import (
    Conflict,
    Contended,
    DomainError,
    Forbidden,
    Gone,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PreconditionFailed,
    TooManyRequests,
    Unavailable,
)

log = logging.getLogger("salescore")
PROBLEM = "application/problem+json"
WWW_AUTHENTICATE = 'Bearer realm="salescore"'

STATUS_OF: dict[type[DomainError], int] = {
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    PreconditionFailed: 412,
    InvalidInput: 422,
    TooManyRequests: 429,
    Contended: 503,
    Unavailable: 503,
}
RETRY_AFTER_SECONDS = "1"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
FORMS = frozenset({FORM, "multipart/form-data"})
# What a form route's 415 says instead of `_FORM_DETAIL`: see `form_hint`.
_FORM_HINTS: dict[Callable[..., Any], str] = {}
_FORM_DETAIL = f"this operation takes a form: send it with `Content-Type: {FORM}`"
_JSON_DETAIL = (f"this operation takes a JSON body: send it with `Content-Type: {JSON}` "
                "(the body is read as JSON only with that Content-Type)")
# How a 415 names what the method takes (RFC 5789 for PATCH, W3C LDP for POST).
_ACCEPT_HEADER = {"POST": "Accept-Post", "PATCH": "Accept-Patch"}
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


class FieldProblem(BaseModel):
    field: str = Field(description="The offending field: a body field, query parameter or header.")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem: what went wrong, never how the server is built."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldProblem] | None = None


class BodyTooLarge(StarletteHTTPException):
    """The request body is over the configured limit. An HTTPException, so that FastAPI's
    body parsing lets it through rather than calling it a malformed body."""

    def __init__(self) -> None:
        super().__init__(413, "the request body is larger than the service accepts")


def problem(status: int, detail: str | None = None, *, request: Request | None = None,
            errors: list[FieldProblem] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    title = HTTPStatus(status).phrase
    body = Problem(
        type=f"urn:salescore:problem:{title.lower().replace(' ', '-')}",
        title=title, status=status, detail=detail,
        instance=None if request is None else request.url.path,
        request_id=None if request is None else getattr(request.state, "request_id", None),
        errors=errors,
    )
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        headers=headers, media_type=PROBLEM)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_message(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return "is not valid JSON"
    return str(error.get("msg", "is invalid"))


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = next(s for t, s in STATUS_OF.items() if isinstance(exc, t))
    errors = None
    if isinstance(exc, InvalidInput):
        errors = [FieldProblem(field=e.field, message=e.message) for e in exc.errors]
    elif isinstance(exc, NotFound) and exc.field:
        errors = [FieldProblem(field=exc.field, message=f"no such {exc.resource}")]
    headers = {"WWW-Authenticate": WWW_AUTHENTICATE} if status == 401 else None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    elif status == 503:
        headers = {"Retry-After": RETRY_AFTER_SECONDS}
    return problem(status, exc.detail, request=request, errors=errors, headers=headers)


def form_hint(detail: str) -> Callable[[Endpoint], Endpoint]:
    """Registers what a form endpoint answers when it is sent something else than a form
    (JSON, say): how to send it."""
    def register(endpoint: Endpoint) -> Endpoint:
        _FORM_HINTS[endpoint] = detail
        return endpoint
    return register


def _media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    message = email.message.Message()
    message["content-type"] = content_type
    return message.get_content_type()


def _has_body(request: Request) -> bool:
    return (request.headers.get("content-length", "0") != "0"
            or "transfer-encoding" in request.headers)


def _unsupported_media_type(request: Request,
                            exc: RequestValidationError) -> JSONResponse | None:
    """415 for a body its route could not read for the Content-Type it came with: a JSON
    route given anything else (FastAPI then validates the raw bytes, which fail as a
    whole: an error at the body whose input is bytes), or a form route given a body that
    is not a form; with how to send it."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return None
    given = _media_type(request.headers.get("content-type"))
    if isinstance(route.body_field.field_info, params.Form):
        if given in FORMS or (given is None and not _has_body(request)):
            return None
        detail, accepted = _FORM_HINTS.get(route.endpoint, _FORM_DETAIL), FORM
    elif any(tuple(e.get("loc", ())) == ("body",) and isinstance(e.get("input"), bytes)
             for e in exc.errors()):
        detail, accepted = _JSON_DETAIL, JSON
    else:
        return None
    accept = _ACCEPT_HEADER.get(request.method)
    headers = None if accept is None else {accept: accepted}
    sent = "none was sent" if given is None else f"not {given}"
    return problem(415, detail, request=request, headers=headers, errors=[FieldProblem(
        field="content-type", message=f"must be {accepted} ({sent})")])


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    unsupported = _unsupported_media_type(request, exc)
    if unsupported is not None:
        return unsupported
    errors = [FieldProblem(field="body" if e.get("type") == "json_invalid"
                           else _field(tuple(e.get("loc", ()))),
                           message=_validation_message(e)) for e in exc.errors()]
    return problem(422, "the request is not valid", request=request, errors=errors)


def method_not_allowed(request: Request, methods: Collection[str]) -> JSONResponse:
    """405, with `Allow` naming every method of the resource."""
    return problem(405, f"this resource has no {request.method}; it has "
                        f"{allow_header(methods)}", request=request,
                   headers={"Allow": allow_header(methods)})


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        allowed = resources(request.app).allowed(request.scope["path"])
        if allowed:
            return method_not_allowed(request, allowed)
    detail = exc.detail if exc.status_code != 404 else "no such resource"
    return problem(exc.status_code, str(detail), request=request,
                   headers=dict(exc.headers or {}) or None)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error, request id %s", getattr(request.state, "request_id", "?"),
              exc_info=exc)
    request_id = getattr(request.state, "request_id", None)
    return problem(500, "an unexpected error occurred; quote the request id when reporting it",
                   request=request, headers={"X-Request-ID": request_id} if request_id else None)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problems a route can answer besides the common ones."""
    return {status: {"model": Problem, "description": HTTPStatus(status).phrase}
            for status in statuses}
