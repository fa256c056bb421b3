"""Routes served without FastAPI's per-request dependency solver, where that changes nothing.

FastAPI works a route's declared parameters and dependencies out anew on every request:
for each query parameter it inspects the parameter's type again (a list declares some
sixty filters, most of them not given), and for each dependency it computes a cache key
from its scopes. That was a third of the CPU of a list page and a fifth of a GET by id. A
`LeanRoute` follows a plan made once from the same declaration, which stays FastAPI's (so
the OpenAPI document is the same), and does what the solver does, in the same order:

- each dependency's own dependencies first, then the dependency itself, called once per
  request however often it is declared (FastAPI's cache; `use_cache=False` honoured);
- the path, query and header parameters given are validated by the very pydantic field
  FastAPI made for them, with the same error locations (`("query", "amount[gte]")`,
  `("header", "if-match")`); one not given takes its default, or is a `missing` error
  when it has none;
- a JSON body (one model, not embedded) is read as FastAPI reads it: parsed only when the
  Content-Type is `application/json` or `application/*+json` (the bytes are validated
  otherwise, and fail), invalid JSON is FastAPI's `json_invalid` error, an empty body is
  no body (`missing` where one is required), and the model is validated at `("body",)`;
- a dependency whose parameters are invalid is not called; every error is gathered and
  the endpoint is called only when there is none, else `RequestValidationError` (the same
  422 problem).

Only routes for which that is the whole of FastAPI's work take this path: the endpoint and
every dependency are `async def` (nothing for the thread pool, no `yield`), every parameter
is a single value in the path, the query or a header (no lists, no parameter models, no
`default_factory`, no `validate_default`, one plain alias), only the endpoint itself takes
a body and that is one JSON model (no forms, files or embedded fields), there are no
cookie, `Response`, `BackgroundTasks` or `SecurityScopes` parameters and no OAuth scopes,
the route keeps FastAPI's strict Content-Type and sets no body size of its own, and the
endpoint is declared to return a `Response` (which FastAPI passes through as it is). Any
other route, and any request while `app.dependency_overrides` holds something, is served
by FastAPI's own handler. FastAPI's native telemetry still times the request as
a whole; a lean route has no separate "dependencies" and "endpoint" spans.

A router included with dependencies of its own would add them to what FastAPI solves but
not to the plan (and one with its own Content-Type strictness or body size would read the
body otherwise): `check_lean_routes` refuses such an app when it is made."""

import email.message
import inspect
import json
from collections.abc import Awaitable, Callable, Collection, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from fastapi import params
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticUndefined
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
# Defaults that FastAPI's per-request deep copy would leave equal and unshared.
_IMMUTABLE = (type(None), bool, int, float, str, bytes, Decimal, Enum, date, datetime, time)


@dataclass(frozen=True, slots=True)
class Param:
    """A path or query parameter: the argument it fills, and how the request names it."""

    name: str
    key: str
    loc: tuple[str, str]
    field: Any  # FastAPI's ModelField for it: `validate` gives (value, errors)
    required: bool
    default: Any


@dataclass(frozen=True, slots=True)
class Step:
    """A dependency (or the endpoint): what it needs, in the order FastAPI solves it."""

    call: Callable[..., Awaitable[Any]]
    name: str | None
    cached: bool
    dependencies: tuple["Step", ...]
    path: tuple[Param, ...]
    query: tuple[Param, ...]
    header: tuple[Param, ...]
    body: Param | None
    request_name: str | None


def _is_coroutine_callable(call: Any) -> bool:
    if inspect.isroutine(call):
        return inspect.iscoroutinefunction(call)
    if inspect.isclass(call):
        return False
    return inspect.iscoroutinefunction(getattr(call, "__call__", None))  # noqa: B004


def _single_value(annotation: Any) -> bool:
    """Whether FastAPI reads a parameter of this type as one value (not a list of them,
    nor a model of several): plain classes, `Annotated` ones, unions and literals of
    them. Anything else is taken as not, so that its route keeps FastAPI's handler."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _single_value(get_args(annotation)[0])
    if origin is Union or origin is UnionType:
        return all(_single_value(arg) for arg in get_args(annotation))
    if origin is Literal:
        return True
    if origin is not None or not inspect.isclass(annotation):
        return False
    if issubclass(annotation, str | bytes):
        return True
    return not issubclass(annotation, BaseModel | Collection)


_KINDS = {"path": params.Path, "query": params.Query, "header": params.Header}


def _param(field: Any, where: str) -> Param | None:
    info = field.field_info
    config = field.config or {}
    if (not isinstance(info, _KINDS[where]) or not _single_value(info.annotation)
            or info.default_factory is not None or info.validate_default
            or not isinstance(info.validation_alias, str | None)
            or any(key in config for key in ("validate_by_alias", "validate_by_name",
                                             "populate_by_name"))):
        return None
    key = field.validation_alias or field.alias
    if isinstance(info, params.Header) and info.convert_underscores and key == field.name:
        key = key.replace("_", "-")  # as FastAPI names a header parameter
    required = info.is_required()
    default = None if required else info.get_default(call_default_factory=False)
    if not isinstance(default, _IMMUTABLE):
        return None
    return Param(field.name, key, (where, key), field, required, default)


def _json_model(annotation: Any) -> bool:
    """A pydantic model, or an optional one."""
    if get_origin(annotation) in (Union, UnionType):
        models = [a for a in get_args(annotation) if a is not type(None)]
        return len(models) == 1 and _json_model(models[0])
    return inspect.isclass(annotation) and issubclass(annotation, BaseModel)


def _body(dependant: Dependant) -> Param | bool | None:
    """The endpoint's JSON body as a parameter (None for none); False where FastAPI
    would read it otherwise than `read_body` does."""
    if not dependant.body_params:
        return None
    if len(dependant.body_params) != 1:
        return False
    field = dependant.body_params[0]
    info = field.field_info
    if (type(info) is not params.Body or info.embed or not _json_model(info.annotation)
            or info.default_factory is not None or info.validate_default):
        return False
    required = info.is_required()
    default = None if required else info.get_default(call_default_factory=False)
    if default is not None:
        return False
    return Param(field.name, "", ("body", ""), field, required, None)


def plan_of(dependant: Dependant, *, top: bool = True) -> Step | None:
    """The steps that do what FastAPI's solver does for `dependant` (the endpoint's when
    `top`); None where they would not (see the module's docstring)."""
    body = _body(dependant)
    if (body is False or (body is not None and not top) or dependant.cookie_params
            or dependant.websocket_param_name or dependant.http_connection_param_name
            or dependant.response_param_name or dependant.background_tasks_param_name
            or dependant.security_scopes_param_name or dependant.own_oauth_scopes
            or dependant.parent_oauth_scopes or getattr(dependant, "concurrency", None)
            or not _is_coroutine_callable(dependant.call)):
        return None
    dependencies = tuple(plan_of(sub, top=False) for sub in dependant.dependencies)
    path = tuple(_param(f, "path") for f in dependant.path_params)
    query = tuple(_param(f, "query") for f in dependant.query_params)
    header = tuple(_param(f, "header") for f in dependant.header_params)
    if None in dependencies or None in path or None in query or None in header:
        return None
    assert dependant.call is not None
    return Step(dependant.call, dependant.name, dependant.use_cache,
                tuple(s for s in dependencies if s is not None),
                tuple(p for p in path if p is not None),
                tuple(p for p in query if p is not None),
                tuple(p for p in header if p is not None),
                body if isinstance(body, Param) else None, dependant.request_param_name)


def _missing(loc: tuple[str, ...]) -> dict[str, Any]:
    """FastAPI's error for a required parameter not given."""
    error = dict(ValidationError.from_exception_data(
        "Field required", [{"type": "missing", "loc": loc, "input": {}}],
    ).errors(include_url=False)[0])
    error["input"] = None
    return error


def _read(found: tuple[Param, ...], given: Mapping[str, Any], values: dict[str, Any],
          errors: list[Any]) -> None:
    for param in found:
        raw = given.get(param.key)
        if raw is None:
            if param.required:
                errors.append(_missing(param.loc))
            else:
                values[param.name] = param.default
            continue
        value, wrong = param.field.validate(raw, values, loc=param.loc)
        if wrong:
            errors.extend(wrong)
        else:
            values[param.name] = value


@lru_cache(maxsize=64)
def _is_json(content_type: str) -> bool:
    """Whether FastAPI parses a body of this Content-Type as JSON (its very test)."""
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


async def read_body(request: Request) -> Any:
    """The body as FastAPI's handler reads it for a JSON model: `PydanticUndefined` when
    empty, the parsed JSON for a JSON Content-Type, else the bytes. Invalid JSON is its
    422; any other failure to read but an HTTP error is its 400."""
    try:
        raw = await request.body()
        if not raw:
            return PydanticUndefined
        content_type = request.headers.get("content-type")
        if content_type and _is_json(content_type):
            return await request.json()
        return raw
    except json.JSONDecodeError as error:
        raise RequestValidationError([{
            "type": "json_invalid", "loc": ("body", error.pos), "msg": "JSON decode error",
            "input": {}, "ctx": {"error": error.msg}}], body=error.doc) from error
    except StarletteHTTPException:
        raise
    except Exception as error:
        raise StarletteHTTPException(400, "There was an error parsing the body") from error


def _read_body(param: Param, body: Any, values: dict[str, Any], errors: list[Any]) -> None:
    if body is PydanticUndefined:
        if param.required:
            errors.append(_missing(("body",)))
        else:
            values[param.name] = None
        return
    value, wrong = param.field.validate(body, values, loc=("body",))
    if wrong:
        errors.extend(wrong)
    else:
        values[param.name] = value


async def solve(step: Step, request: Request, cache: dict[Any, Any],
                errors: list[Any], body: Any = PydanticUndefined) -> dict[str, Any]:
    """The arguments of `step`'s call, as FastAPI's `solve_dependencies` gives them;
    `body` as `read_body` read it, before anything else as FastAPI does."""
    values: dict[str, Any] = {}
    for sub in step.dependencies:
        wrong: list[Any] = []
        arguments = await solve(sub, request, cache, wrong)
        if wrong:
            errors.extend(wrong)
            continue
        if sub.cached and sub.call in cache:
            solved = cache[sub.call]
        else:
            solved = await sub.call(**arguments)
            cache.setdefault(sub.call, solved)
        if sub.name is not None:
            values[sub.name] = solved
    if step.path:
        _read(step.path, request.path_params, values, errors)
    if step.query:
        _read(step.query, request.query_params, values, errors)
    if step.header:
        _read(step.header, request.headers, values, errors)
    if step.body is not None:
        _read_body(step.body, body, values, errors)
    if step.request_name is not None:
        values[step.request_name] = request
    return values


def lean_handler(plan: Step, fallback: Handler) -> Handler:
    async def handle(request: Request) -> Response:
        if getattr(request.app, "dependency_overrides", None):
            return await fallback(request)
        errors: list[Any] = []
        body = PydanticUndefined if plan.body is None else await read_body(request)
        arguments = await solve(plan, request, {}, errors, body)
        if errors:
            raise RequestValidationError(errors, body=None)
        response = await plan.call(**arguments)
        if not isinstance(response, Response):
            raise TypeError(f"{plan.call.__name__} is declared to return a Response")
        return response

    return handle


def answers_response(endpoint: Callable[..., Any]) -> bool:
    """Whether the endpoint is declared to return a `Response` of its own."""
    try:
        returned = get_type_hints(endpoint).get("return")
    except (NameError, TypeError):
        return False
    return inspect.isclass(returned) and issubclass(returned, Response)


class LeanRoute(APIRoute):
    """An APIRoute served by its plan where it has one (see the module's docstring)."""

    plan: Step | None = None

    def get_route_handler(self) -> Handler:
        fallback = super().get_route_handler()
        if not answers_response(self.endpoint) or not _reads_as_planned(self):
            return fallback
        self.plan = plan_of(self.dependant)
        return fallback if self.plan is None else lean_handler(self.plan, fallback)


def _reads_as_planned(route: Any) -> bool:
    """Whether FastAPI would read this route's body as `read_body` does: the strict
    Content-Type (its default) and no body size limit of the route's own."""
    strict = route.strict_content_type
    return getattr(strict, "value", strict) is True and route.max_body_size is None


def _shape(dependant: Dependant) -> tuple[Any, ...]:
    return (dependant.call, dependant.name, dependant.use_cache,
            tuple(f.alias for f in dependant.path_params),
            tuple(f.alias for f in dependant.query_params),
            tuple(f.alias for f in dependant.header_params),
            tuple(f.alias for f in dependant.body_params),
            tuple(_shape(sub) for sub in dependant.dependencies))


def check_lean_routes(routes: Sequence[BaseRoute]) -> None:
    """Refuse an app where a lean route's plan would miss what its inclusion added (a
    router included with dependencies of its own): FastAPI would solve those."""
    for context in iter_route_contexts(routes):
        route = context.original_route
        if isinstance(route, LeanRoute) and route.plan is not None and (
                _shape(context.dependant) != _shape(route.dependant)
                or not _reads_as_planned(context)):
            raise RuntimeError(f"{route.path}: a lean route included with dependencies "
                               "or body settings of its own; include its router "
                               "without them")
