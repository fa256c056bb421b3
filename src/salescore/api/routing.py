"""The router every part of the API declares its routes on.

FastAPI matches a request against the included routers one by one, and each router
against every one of its routes (a regular expression and some bookkeeping each, some
5 µs): a request for a router included late paid for every route before it, 35 of them
for `GET /v1/customers/{id}`. A `Router` first compares the path with the literal start
of its routes' paths (up to the first parameter) and, when none fits, says at once that
none of its routes can match. Which route answers a request is unchanged."""

from fastapi import APIRouter
from starlette.routing import BaseRoute, Match
from starlette.types import Scope


def route_path(scope: Scope) -> str:
    """The path routes are matched against: the request's, without the root path."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root):len(root) + 1] in ("", "/"):
        return path[len(root):]
    return path


def literal_start(route: BaseRoute) -> str:
    """The start of the route's path that every path it matches shares."""
    path: str = getattr(route, "path", "")
    return path.split("{", 1)[0]


class Router(APIRouter):
    _starts: tuple[str, ...] = ()
    _starts_of: int = -1  # the number of routes `_starts` was made from

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if len(self.routes) != self._starts_of:
            self._starts = tuple({literal_start(route) for route in self.routes})
            self._starts_of = len(self.routes)
        if scope.get("type") == "http" and not route_path(scope).startswith(self._starts):
            return Match.NONE, {}
        return super().matches(scope)
