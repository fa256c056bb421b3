"""The FastAPI application."""

import gc
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from salescore import __version__
from salescore.api import docs_pages, health, metrics
from salescore.api.cursors import CursorCodec
from salescore.api.errors import PROBLEM, install_error_handlers, method_not_allowed
from salescore.api.lean_routes import check_lean_routes
from salescore.api.metrics import RequestMetrics
from salescore.api.middleware import Idempotency, RequestContext
from salescore.api.operation_ids import operation_id
from salescore.api.rate_limits import RateLimits
from salescore.api.routing import FirstRoutes, MethodNotAllowed, routes_of
from salescore.api.state import AppState
from salescore.api.tokens import TokenSettings
from salescore.api.v1.access import api_keys, auth, org_units, users
from salescore.api.v1.activities import activities, notifications
from salescore.api.v1.activities import settings as settings_api
from salescore.api.v1.customers import customers
from salescore.api.v1.examples import EXAMPLES
from salescore.api.v1.feed import events
from salescore.api.v1.integrations import esign, imports, leads, webhook_test, webhooks
from salescore.api.v1.integrations.import_rows import ImportRowRules
from salescore.api.v1.integrations.imports import UPLOADS as IMPORT_UPLOADS
from salescore.api.v1.integrations.schemas import CALLBACKS
from salescore.api.v1.quotes import products, public, quotes
from salescore.api.v1.quotes import templates as quote_templates
from salescore.api.v1.reports import exchange_rates, history, pipeline, stagnant
from salescore.api.v1.sales import campaigns, lists, opportunities, processes, sellers
from salescore.api.v1.sales import lines as opportunity_lines
from salescore.api.v1.sales import orders as sales_orders
from salescore.domain.access.login_throttle import ThrottlePolicy
from salescore.repositories.access.auth_notices import AuthListener, local_auth_hook
from salescore.repositories.database import make_engine, make_sessions
from salescore.services.access.caller_cache import CallerCache
from salescore.services.access.login_throttle import LoginThrottle
from salescore.settings import Settings
from salescore.workers.context import WorkerContext
from salescore.workers.runner import Worker, default_loops

DESCRIPTION = """The sales-opportunity core of a CRM.

Errors are RFC 9457 `application/problem+json`. Lists take `limit` and `cursor` (keyset,
stable while rows are inserted) and filters as `field=`, `field[gte]=`, `field[lte]=`,
`field[ne]=`. Every POST takes an `Idempotency-Key`. Writes take `If-Match` with the ETag
read before."""


def create_app(settings: Settings, database_url: str, *, worker: bool = False) -> FastAPI:
    """The app; with `worker`, its lifespan also runs the background loops of a worker
    (`salescore serve` without `--no-worker`), on the app's engine."""
    engine = make_engine(database_url, pool_size=settings.db_pool_size)
    secret = settings.signing_secret
    callers = CallerCache(settings.auth_cache_seconds)
    sessions = make_sessions(engine)
    sessions.configure(info=local_auth_hook(callers.forget))
    state = AppState(
        settings=settings, engine=engine, sessions=sessions,
        reads=make_sessions(engine.execution_options(isolation_level="AUTOCOMMIT")),
        tokens=TokenSettings(secret=secret, issuer=settings.jwt_issuer,
                             audience=settings.jwt_audience,
                             ttl=timedelta(seconds=settings.token_ttl_seconds)),
        cursors=CursorCodec(hashlib.sha256(b"cursor:" + secret.encode()).digest()),
        callers=callers,
        auth_listener=AuthListener(engine, on_change=callers.forget,
                                   on_up=callers.listening, on_down=callers.deaf),
        logins=LoginThrottle(ThrottlePolicy(free_failures=settings.login_free_failures,
                                            lock_failures=settings.login_lock_failures,
                                            lock_seconds=settings.login_lock_seconds)),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        """The caller cache is used only while its listener hears changes (none without a
        lifespan, as in tests that do not start one, or with SALESCORE_AUTH_CACHE_SECONDS=0).
        The worker, if any, stops after the requests have drained."""
        if callers.seconds > 0:
            await state.auth_listener.start()
        background = None
        if worker:
            background = Worker(WorkerContext(settings=settings, engine=engine,
                                              sessions=make_sessions(engine),
                                              import_rows=ImportRowRules()), default_loops())
            background.start()
        # What start-up made lives as long as the process: keep it out of the collector's
        # full passes, which otherwise rescan it while a large answer is being built.
        gc.freeze()
        try:
            yield
        finally:
            if background is not None:
                await background.stop()
            await state.auth_listener.stop()
            await engine.dispose()

    app = FastAPI(title="salescore", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None,  # see docs_pages.py
                  generate_unique_id_function=operation_id)
    app.state.salescore = state
    install_error_handlers(app)
    # Routes are matched in order, one by one: the busiest come first. No two routers
    # share a path, so the order changes nothing else.
    for router in [opportunities.router, health.router, metrics.router, auth.router,
                   sellers.router, opportunity_lines.router, activities.router,
                   customers.router, events.router, users.router, *org_units.routers,
                   api_keys.router, settings_api.router, lists.router, campaigns.router,
                   processes.router, notifications.router, stagnant.router,
                   exchange_rates.router, pipeline.router, history.router,
                   sales_orders.router, products.router, quote_templates.router,
                   quotes.router, public.router, esign.router, webhooks.router,
                   webhook_test.router, imports.router, leads.router, docs_pages.router]:
        app.include_router(router)
    app.router.routes.insert(0, FirstRoutes(routes_of(opportunities.router,
                                                      opportunities.BUSIEST)))
    check_lean_routes(app.routes)
    app.add_middleware(Idempotency, streamed=frozenset({IMPORT_UPLOADS}))
    app.add_middleware(MethodNotAllowed, answer=method_not_allowed)
    app.add_middleware(RateLimits, settings=settings)
    app.add_middleware(RequestContext, max_body=settings.max_body_bytes,
                       larger=((CALLBACKS, settings.max_callback_body_bytes),
                               (IMPORT_UPLOADS, settings.import_max_bytes)),
                       max_url=settings.max_url_bytes, max_headers=settings.max_header_bytes)
    app.add_middleware(RequestMetrics)
    app.openapi = lambda: openapi_of(app)  # type: ignore[method-assign]
    return app


def openapi_of(app: FastAPI) -> dict[str, Any]:
    """The spec, with every error documented as problem+json: each route's own, plus 422,
    500 and 503 (a request that met a concurrent one and may be sent again) everywhere,
    401 and 403 wherever a credential is needed, 400 (a body that cannot be read, such as
    one not in UTF-8), 413 and 415 (a body not of the Content-Type the operation reads)
    with a body, 409 on a POST (its `Idempotency-Key` still running)."""
    if app.openapi_schema:
        return app.openapi_schema
    spec = get_openapi(title=app.title, version=app.version, description=app.description,
                       routes=app.routes)
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    for operations in spec["paths"].values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status, phrase in _common_errors(method, operation).items():
                responses.setdefault(status, {"description": phrase})
            for status, response in responses.items():
                if status[0] in "45":
                    # The customer's page also answers its errors as HTML pages.
                    html = {k: v for k, v in response.get("content", {}).items()
                            if k == "text/html"}
                    response["content"] = {PROBLEM: {"schema": problem_ref}, **html}
    for name, example in EXAMPLES.items():  # whole: FastAPI's drops an example's nulls
        schemas[name]["examples"] = [example]
    _whole_bounds(spec)
    app.openapi_schema = spec
    return spec


def _common_errors(method: str, operation: dict[str, Any]) -> dict[str, str]:
    """The errors an operation can answer whatever its route declares."""
    common = {"422": "Unprocessable Content", "500": "Internal Server Error",
              "503": "Service Unavailable"}
    if operation.get("security"):
        common |= {"401": "Unauthorized", "403": "Forbidden"}
    if "requestBody" in operation:
        common |= {"400": "Bad Request", "413": "Content Too Large",
                   "415": "Unsupported Media Type"}
    if method == "post":
        common["409"] = "Conflict"
    if "health" not in operation.get("tags", []):  # probes are not rate-limited
        common["429"] = "Too Many Requests"
    return common


_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _whole_bounds(node: Any) -> None:
    """FastAPI's OpenAPI model holds every bound as a float (`minimum: 1.0`): an integer's
    are written back as integers, so that generated clients keep them whole. Bigints say
    `int64` instead of bounds no float holds (api/v1/schemas.py)."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            for bound in _BOUNDS:
                value = node.get(bound)
                if isinstance(value, float):
                    if not value.is_integer() or abs(value) > 2**53:
                        raise ValueError(f"{bound} {value} of an integer is not exact")
                    node[bound] = int(value)
        for value in node.values():
            _whole_bounds(value)
    elif isinstance(node, list):
        for value in node:
            _whole_bounds(value)
