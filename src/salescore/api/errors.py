"""RFC 9457 problem details for every error the service gives, and their OpenAPI entries.

One table maps each domain error to a status; framework errors (unknown route, wrong
method, validation, oversized body) and unexpected failures are rendered the same way. A
500 says nothing of its cause: the trace goes to the log, under the request id."""

import logging
from collections.abc import Collection
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
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


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
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
