"""The router every part of the API declares its routes on.

FastAPI matches a request against the included routers one by one, and each router
against every one of its routes (a regular expression and some bookkeeping each, some
5 µs): a request for a router included late paid for every route before it, 35 of them
for `GET /v1/customers/{id}`. A `Router` first looks in the path for the literal start of
its routes' paths (up to the first parameter) and, when none is there, says at once that
none of its routes can match. Looked for anywhere in the path, not only at its start, so
that a prefix given when the router is included, or a root path, changes nothing. Which
route answers a request is unchanged.

The resources: every path template with all the methods declared on it, for the 405s
(see MethodNotAllowed)."""

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from fastapi import APIRouter
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.applications import Starlette
from starlette.datastructures import URLPath
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import ASGIApp, Receive, Scope, Send

from salescore.api.lean_routes import LeanRoute


def literal_start(route: BaseRoute) -> str:
    """The start of the route's path that every path it matches holds."""
    path: str = getattr(route, "path", "")
    return path.split("{", 1)[0]


class Router(APIRouter):
    """Its routes are `LeanRoute`s: served without FastAPI's per-request solver where
    that changes nothing (see lean_routes.py)."""

    _starts: tuple[str, ...] = ()
    _starts_of: int = -1  # the number of routes `_starts` was made from

    def __init__(self, **options: Any) -> None:
        options.setdefault("route_class", LeanRoute)
        super().__init__(**options)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if len(self.routes) != self._starts_of:
            self._starts = tuple({literal_start(route) for route in self.routes})
            self._starts_of = len(self.routes)
        path: str = scope.get("path", "")
        if scope.get("type") == "http" and not any(start in path for start in self._starts):
            return Match.NONE, {}
        return super().matches(scope)


_CHOSEN = "salescore.first_route"


class FirstRoutes(BaseRoute):
    """A few of the busiest routes, tried before FastAPI's included routers, each of
    which costs a request two passes of bookkeeping around its routes (the match, then
    the same match again to handle it) even when it is the first and holds the route.

    Only a full match (path and method) is taken here; anything else, a 405 included, is
    left to the routers after, which hold these same routes too: they are what the
    OpenAPI document is made from (this holder is not an APIRoute, so it is not in it)
    and what answers a request these do not take. A route taken here runs as it would
    there: it is the same route object, served by its own handler (which is the one the
    included router would use, as lean_routes.check_lean_routes makes sure)."""

    def __init__(self, routes: Sequence[APIRoute]) -> None:
        self.routes = tuple(routes)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            for route in self.routes:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    child_scope[_CHOSEN] = route
                    return match, child_scope
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: APIRoute = scope.pop(_CHOSEN)
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)  # the routers after know these names


def routes_of(router: APIRouter, endpoints: Collection[Callable[..., Any]]) -> list[APIRoute]:
    """The router's routes that these endpoints answer, in the router's order."""
    found = [route for route in router.routes
             if isinstance(route, APIRoute) and route.endpoint in endpoints]
    if len(found) != len(endpoints):
        raise LookupError("an endpoint that is not a route of this router")
    return found


@dataclass(frozen=True, slots=True)
class Resource:
    """A path template of the app with every method declared on it."""

    path: str
    pattern: re.Pattern[str]
    literals: tuple[bool, ...]  # which segments are literal, in order
    methods: frozenset[str]


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/")


def _literals(path: str) -> tuple[bool, ...]:
    return tuple("{" not in segment for segment in _segments(path))


def resources_of(routes: Sequence[BaseRoute]) -> tuple[Resource, ...]:
    """The app's resources: its routes grouped by path template (one route per method)."""
    methods: dict[str, set[str]] = {}
    patterns: dict[str, re.Pattern[str]] = {}
    for route in iter_route_contexts(routes):
        path, declared = route.path, route.methods
        pattern = getattr(route, "path_regex", None)
        if path is None or not declared or pattern is None:
            continue
        methods.setdefault(path, set()).update(declared)
        patterns[path] = pattern
    return tuple(Resource(path, patterns[path], _literals(path), frozenset(found))
                 for path, found in methods.items())


def resource_named(resources: Sequence[Resource], path: str) -> Resource | None:
    """The resource a path names. Of the templates it matches, the one whose literal
    segments come first: `/v1/opportunities/bulk-delete` is the bulk delete, not the
    opportunity of id `bulk-delete`; `/v1/lists/sources/order` is the order."""
    matching = [r for r in resources if r.pattern.match(path)]
    return max(matching, key=lambda r: r.literals, default=None)


Shadowed = frozenset[tuple[int, int, str]]


def shadowed_words(resources: Sequence[Resource]) -> Shadowed:
    """The literal segments that a parameter of another template also matches, as
    (number of segments, position, word): only a path with one of them where it stands can
    be named by another template than the first it matches."""
    words: set[tuple[int, int, str]] = set()
    for one in resources:
        for other in resources:
            a, b = _segments(one.path), _segments(other.path)
            if one is other or len(a) != len(b) or not all(
                    x == y or "{" in x or "{" in y for x, y in zip(a, b, strict=True)):
                continue
            words.update((len(a), i, x) for i, (x, y) in enumerate(zip(a, b, strict=True))
                         if "{" not in x and "{" in y)
    return frozenset(words)


@dataclass(frozen=True, slots=True)
class Resources:
    """The resources of an app, and the words that make a path ambiguous."""

    by_length: Mapping[int, tuple[Resource, ...]]  # by number of segments
    shadowed: Shadowed

    def allowed(self, path: str) -> frozenset[str]:
        """The methods the resource `path` names has (none for no resource)."""
        resource = resource_named(self.by_length.get(len(_segments(path)), ()), path)
        return frozenset() if resource is None else resource.methods

    def is_shadowed(self, path: str) -> bool:
        """Whether another template than the first that matches may name `path`."""
        parts = _segments(path)
        count, shadowed = len(parts), self.shadowed
        return any((count, i, part) in shadowed for i, part in enumerate(parts))


_RESOURCES: "WeakKeyDictionary[Starlette, Resources]" = WeakKeyDictionary()


def resources(app: Starlette) -> Resources:
    """The resources of `app`, worked out on first use (every route is declared by then)."""
    found = _RESOURCES.get(app)
    if found is None:
        every = resources_of(app.routes)
        by_length: dict[int, tuple[Resource, ...]] = {}
        for resource in every:
            count = len(resource.literals)
            by_length[count] = (*by_length.get(count, ()), resource)
        found = _RESOURCES[app] = Resources(by_length, shadowed_words(every))
    return found


def allow_header(methods: Collection[str]) -> str:
    return ", ".join(sorted(methods))


class MethodNotAllowed:
    """A method that the resource a path names does not have is 405 with `Allow` listing
    exactly the methods it has (RFC 9110 §15.5.6), even where another route's template
    takes the path too: `PATCH /v1/lists/sources/order` is not a PATCH of the source of id
    `order`. The router's own 405s get the same `Allow` from the error handler. Worked out
    before routing only for a path with a shadowed word where it stands; any other costs
    a split of its path."""

    def __init__(self, app: ASGIApp,
                 answer: Callable[[Request, Collection[str]], Response]) -> None:
        self.app = app
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            known = resources(scope["app"])
            if known.is_shadowed(path):
                allowed = known.allowed(path)
                if allowed and scope["method"] not in allowed:
                    await self.answer(Request(scope), allowed)(scope, receive, send)
                    return
        await self.app(scope, receive, send)
