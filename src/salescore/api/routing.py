"""The router every part of the API declares its routes on.

FastAPI matches a request against the included routers one by one, and each router
against every one of its routes (a regular expression and some bookkeeping each, some
5 µs): a request for a router included late paid for every route before it, 35 of them
for `GET /v1/customers/{id}`. A `Router` first looks in the path for the literal start of
its routes' paths (up to the first parameter) and, when none is there, says at once that
none of its routes can match. Looked for anywhere in the path, not only at its start, so
that a prefix given when the router is included, or a root path, changes nothing. Which
route answers a request is unchanged."""

from fastapi import APIRouter
from starlette.routing import BaseRoute, Match
from starlette.types import Scope


def literal_start(route: BaseRoute) -> str:
    """The start of the route's path that every path it matches holds."""
    path: str = getattr(route, "path", "")
    return path.split("{", 1)[0]


class Router(APIRouter):
    _starts: tuple[str, ...] = ()
    _starts_of: int = -1  # the number of routes `_starts` was made from

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if len(self.routes) != self._starts_of:
            self._starts = tuple({literal_start(route) for route in self.routes})
            self._starts_of = len(self.routes)
        path: str = scope.get("path", "")
        if scope.get("type") == "http" and not any(start in path for start in self._starts):
            return Match.NONE, {}
        return super().matches(scope)
